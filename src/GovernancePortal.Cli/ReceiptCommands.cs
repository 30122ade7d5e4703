using GovernancePortal.Erasure;

namespace GovernancePortal.Cli;

/// <summary>
/// <c>gp receipt verify &lt;file&gt; --public-key &lt;pem&gt;</c>: checks an erasure receipt offline, from the file
/// and the portal's public key alone (docs/erasure.md, "The receipt"). Exit 0 with a one-line summary when it
/// verifies, 1 with the reason when it does not, 2 for wrong usage or a file that cannot be read.
/// </summary>
internal static class ReceiptCommands
{
    private const string VerifyUsage = "gp: usage: gp receipt verify <file> --public-key <pem file>";

    public static async Task<int> VerifyAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args is not [var file, .. var rest] || file.StartsWith("--", StringComparison.Ordinal)
            || GpCommand.ParseOptions(rest) is not { } values || !values.TryGetValue("--public-key", out var keyFile) || values.Count != 1)
        {
            await error.WriteLineAsync(VerifyUsage);
            return 2;
        }
        string receipt, pem;
        try
        {
            receipt = await File.ReadAllTextAsync(file);
            pem = await File.ReadAllTextAsync(keyFile);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"gp: cannot read {exception.Message}");
            return 2;
        }
        var check = ErasureReceipt.Verify(receipt, pem);
        if (!check.Valid)
        {
            await error.WriteLineAsync($"gp: receipt refused: {check.Reason}");
            return 1;
        }
        await output.WriteLineAsync(check.Receipt!.Summary(check.KeyId!));
        return 0;
    }
}
