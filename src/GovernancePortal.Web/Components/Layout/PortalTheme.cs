using MudBlazor;

namespace GovernancePortal.Web.Components.Layout;

/// <summary>
/// The portal's two palettes. Every colour that text, an icon or a state chip is drawn in has at least
/// 4.5:1 contrast against the background it sits on, in both themes (WCAG 2.1 AA, docs/accessibility.md);
/// the browser tests' axe check fails a page that falls short. MudBlazor's own defaults do not: its
/// error, warning, success and info colours are too light on white, and its "darken" shades (the text
/// of alerts) are fixed values that do not follow a changed base colour, so every shade is set here.
/// In the dark theme the filled buttons' text is dark, because white on a light colour fails. The lines that
/// outline fields have 3:1 (WCAG 1.4.11, non-text contrast).
/// </summary>
public static class PortalTheme
{
    private const string DarkInk = "#0b1a26";

    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f5f8b",
            PrimaryDarken = "#174a6d",
            PrimaryLighten = "#2a77ad",
            Secondary = "#6b4fa0",
            SecondaryDarken = "#553f80",
            SecondaryLighten = "#7e62b5",
            Tertiary = "#2e7d5b",
            TertiaryDarken = "#236247",
            TertiaryLighten = "#379469",
            AppbarBackground = "#17415f",
            Error = "#c62828",
            ErrorDarken = "#a61d1d",
            ErrorLighten = "#d84343",
            Warning = "#9a5b00",
            WarningDarken = "#7a4800",
            WarningLighten = "#b06800",
            Success = "#2e7d32",
            SuccessDarken = "#1b5e20",
            SuccessLighten = "#388e3c",
            Info = "#1565c0",
            InfoDarken = "#0d47a1",
            InfoLighten = "#1976d2",
            TextSecondary = "rgba(0,0,0,0.64)",
            // The line that shows where a field is: 3:1 against its background (WCAG 1.4.11); MudBlazor's is 1.9:1.
            LinesInputs = "#8a8a8a",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#7fb8e0",
            PrimaryDarken = "#7fb8e0",
            PrimaryLighten = "#a6cfec",
            PrimaryContrastText = DarkInk,
            Secondary = "#b59ce0",
            SecondaryDarken = "#b59ce0",
            SecondaryLighten = "#cbbaea",
            SecondaryContrastText = DarkInk,
            Tertiary = "#6fcf9f",
            TertiaryDarken = "#6fcf9f",
            TertiaryLighten = "#97dcb9",
            TertiaryContrastText = DarkInk,
            AppbarBackground = "#14202b",
            // Light enough for 4.5:1 on a hovered button's tinted background too.
            Error = "#ffa39b",
            ErrorDarken = "#ffa39b",
            ErrorLighten = "#ffc2bd",
            ErrorContrastText = DarkInk,
            Warning = "#ffb74d",
            WarningDarken = "#ffb74d",
            WarningLighten = "#ffcb80",
            WarningContrastText = DarkInk,
            Success = "#66d19e",
            SuccessDarken = "#66d19e",
            SuccessLighten = "#8fdcb7",
            SuccessContrastText = DarkInk,
            Info = "#7ab8ff",
            InfoDarken = "#7ab8ff",
            InfoLighten = "#a3ceff",
            InfoContrastText = DarkInk,
            TextSecondary = "rgba(255,255,255,0.70)",
            LinesInputs = "rgba(255,255,255,0.50)",
        },
    };
}
