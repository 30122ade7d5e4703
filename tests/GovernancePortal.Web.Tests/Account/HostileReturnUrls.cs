namespace GovernancePortal.Web.Tests.Account;

/// <summary>Return URLs that must never be followed after sign-in: each falls back to <c>/</c>.</summary>
public static class HostileReturnUrls
{
    public static readonly TheoryData<string> All =
    [
        "https://evil.example/steal",
        "http://localhost/me",
        "//evil.example/steal",
        "///evil.example/steal",
        "/\\evil.example/steal",
        "\\\\evil.example/steal",
        "\\/evil.example/steal",
        "evil.example/steal",
        "javascript:alert(1)",
        " //evil.example/steal",
        "/\t/evil.example/steal",
        "/\r\n/evil.example/steal",
        "/\0/evil.example",
        "/%2F/evil.example/steal",
        "%2F%2Fevil.example/steal",
        "/%5Cevil.example/steal",
        "/%09/evil.example/steal",
        "/%0d%0a/evil.example/steal",
        "/%252F%252Fevil.example/steal",
        "/me\\..\\..\\evil",
        "/\u2028/evil.example",
    ];

    public static readonly TheoryData<string> Local = ["/me", "/programs?tab=categories", "/me/requests/ER-2026-0001#receipt", "/audit?actor=Ada%20Lovelace"];
}
