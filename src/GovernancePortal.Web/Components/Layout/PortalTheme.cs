using MudBlazor;

namespace GovernancePortal.Web.Components.Layout;

public static class PortalTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f5f8b",
            Secondary = "#6b4fa0",
            AppbarBackground = "#17415f",
            Tertiary = "#2e7d5b",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#7fb8e0",
            Secondary = "#b59ce0",
            AppbarBackground = "#14202b",
            Tertiary = "#6fcf9f",
        },
    };
}
