using Microsoft.AspNetCore.Components;

namespace GovernancePortal.Web.Components;

/// <summary>
/// The base of every page with actions. A page is first prerendered as plain HTML and only later
/// attached to its circuit; until then its buttons have no handlers, and a click on one is lost without
/// a word. Each action binds <c>Disabled="NotLive"</c> (with its own busy flag, if it has one), so it
/// is greyed out in the prerendered HTML and enabled by the first interactive render, the same render
/// that attaches its handler. Links that work as plain links (downloads, "See my records") stay enabled.
/// </summary>
public abstract class LivePage : ComponentBase
{
    /// <summary>True while this render is the prerendered HTML, which nothing in the browser can act on.</summary>
    protected bool NotLive => !RendererInfo.IsInteractive;
}
