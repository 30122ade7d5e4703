using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Crypto;

/// <summary>
/// Encrypts ASP.NET data-protection keys (which sign the portal's cookies) under a key derived from
/// the master key, so a copy of the database alone cannot forge a session.
/// </summary>
public sealed class MasterKeyXmlEncryptor(MasterKeyRing ring) : IXmlEncryptor
{
    internal static readonly byte[] AssociatedData = Encoding.UTF8.GetBytes("gp-data-protection/v1");

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var (nonce, sealedXml) = Aead.Seal(DeriveKey(ring.Current), plaintext, AssociatedData);
        var element = new XElement("encryptedKey",
            new XAttribute("masterKeyId", ring.Current.Id),
            new XElement("nonce", Convert.ToBase64String(nonce)),
            new XElement("value", Convert.ToBase64String(sealedXml)));
        return new EncryptedXmlInfo(element, typeof(MasterKeyXmlDecryptor));
    }

    internal static byte[] DeriveKey(MasterKey master) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, master.Bytes.ToArray(), 32, info: AssociatedData);
}

/// <summary>Created by data protection through its service provider when it reads a key.</summary>
public sealed class MasterKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var ring = services.GetRequiredService<MasterKeyRing>();
        var master = ring.Find((string?)encryptedElement.Attribute("masterKeyId") ?? "");
        var nonce = Convert.FromBase64String((string?)encryptedElement.Element("nonce") ?? "");
        var sealedXml = Convert.FromBase64String((string?)encryptedElement.Element("value") ?? "");
        var plaintext = Aead.Open(MasterKeyXmlEncryptor.DeriveKey(master), nonce, sealedXml, MasterKeyXmlEncryptor.AssociatedData);
        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}
