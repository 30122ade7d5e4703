using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace GovernancePortal.Crypto;

/// <summary>
/// The master keys that wrap data keys. <see cref="Current"/> wraps; retired keys only unwrap,
/// so a rotation can run while nodes still hold data keys wrapped by the old key.
/// </summary>
public sealed class MasterKeyRing
{
    public const string KeyFileName = "master.key";

    public MasterKeyRing(MasterKey current, IEnumerable<MasterKey>? retired = null, string? keyFile = null)
    {
        Current = current;
        Retired = (retired ?? []).Where(key => key.Id != current.Id).ToList();
        KeyFile = keyFile;
    }

    public MasterKey Current { get; }

    public IReadOnlyList<MasterKey> Retired { get; }

    /// <summary>The file the keys came from (embedded default), or null when they come from configuration.</summary>
    public string? KeyFile { get; }

    public MasterKey Find(string id) =>
        Current.Id == id ? Current
        : Retired.FirstOrDefault(key => key.Id == id)
          ?? throw new CryptographicException($"Master key {id} is not configured; add it to Encryption:RetiredMasterKeys.");

    /// <summary>
    /// Reads <c>Encryption:MasterKey</c> (and <c>Encryption:RetiredMasterKeys</c>, comma separated).
    /// Without them, and only when <paramref name="allowGeneratedKey"/>, uses (or creates) <c>data/master.key</c>.
    /// </summary>
    public static MasterKeyRing FromConfiguration(IConfiguration configuration, string dataFolder, bool allowGeneratedKey)
    {
        var configured = configuration["Encryption:MasterKey"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var retired = (configuration["Encryption:RetiredMasterKeys"] ?? "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(text => MasterKey.Parse(text, "Encryption:RetiredMasterKeys"));
            return new MasterKeyRing(MasterKey.Parse(configured, "Encryption:MasterKey"), retired);
        }
        if (!allowGeneratedKey)
            throw new Data.ConfigurationProblem("Encryption:MasterKey is not set (base64 of 32 random bytes).");
        return FromKeyFile(Path.Combine(dataFolder, KeyFileName));
    }

    /// <summary>Loads the key file (first line current, further lines retired), creating it with a new key if absent.</summary>
    public static MasterKeyRing FromKeyFile(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            WriteKeyFile(path, [MasterKey.Generate()]);
        }
        var keys = File.ReadAllLines(path)
            .Where(line => !string.IsNullOrWhiteSpace(line))
            .Select(line => MasterKey.Parse(line.Trim(), path))
            .ToList();
        if (keys.Count == 0)
            throw new Data.ConfigurationProblem($"The master key file {path} is empty.");
        return new MasterKeyRing(keys[0], keys.Skip(1), path);
    }

    /// <summary>Replaces the key file atomically, readable by the owner only.</summary>
    public static void WriteKeyFile(string path, IEnumerable<MasterKey> keys)
    {
        var temporary = path + ".tmp";
        File.WriteAllLines(temporary, keys.Select(key => key.ToBase64()));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: true);
    }
}

public sealed class MasterKey
{
    private readonly byte[] _key;

    private MasterKey(byte[] key)
    {
        _key = key;
        Id = Convert.ToHexStringLower(SHA256.HashData(key))[..16];
    }

    /// <summary>A public fingerprint of the key, stored beside every data key it wraps.</summary>
    public string Id { get; }

    internal ReadOnlySpan<byte> Bytes => _key;

    public static MasterKey Generate() => new(RandomNumberGenerator.GetBytes(32));

    public static MasterKey Parse(string base64, string source)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new Data.ConfigurationProblem($"{source} is not valid base64.");
        }
        if (bytes.Length != 32)
            throw new Data.ConfigurationProblem($"{source} must be 32 bytes (base64), not {bytes.Length}.");
        return new MasterKey(bytes);
    }

    public string ToBase64() => Convert.ToBase64String(_key);
}
