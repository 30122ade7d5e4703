using Bunit;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace GovernancePortal.Web.Tests.Components;

/// <summary>
/// The one setup every component test shares: MudBlazor's services, JavaScript interop that answers
/// anything (MudBlazor calls into JS the tests do not exercise), and an antiforgery token for forms.
/// </summary>
public abstract class PortalComponentTest : BunitContext
{
    public const string AntiforgeryToken = "test-antiforgery-token";

    protected PortalComponentTest()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<AntiforgeryStateProvider, FixedAntiforgeryState>();
    }

    private sealed class FixedAntiforgeryState : AntiforgeryStateProvider
    {
        public override AntiforgeryRequestToken GetAntiforgeryToken() => new(AntiforgeryToken, "__RequestVerificationToken");
    }
}
