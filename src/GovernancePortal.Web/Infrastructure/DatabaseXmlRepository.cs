using System.Xml.Linq;
using Dapper;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace GovernancePortal.Web.Infrastructure;

/// <summary>
/// Keeps ASP.NET data-protection keys in the database, encrypted under the master key, so every portal
/// node reads the same cookies.
/// </summary>
public sealed class DatabaseXmlRepository(ConnectionFactory connections, TimeProvider time) : IXmlRepository
{
    private const string All = "SELECT xml FROM data_protection_keys ORDER BY created_at";

    private const string Insert = """
        INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES (@Name, @Xml, @Now)
        ON CONFLICT (friendly_name) DO NOTHING
        """;

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = connections.OpenAsync().GetAwaiter().GetResult();
        return connection.Query<string>(All).Select(XElement.Parse).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = connections.OpenAsync().GetAwaiter().GetResult();
        connection.Execute(Insert, new { Name = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting), Now = time.GetUtcNow() });
    }

    public static WebApplicationBuilder AddSharedDataProtection(WebApplicationBuilder builder)
    {
        builder.Services.AddDataProtection().SetApplicationName("GovernancePortal");
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider =>
            new ConfigureOptions<KeyManagementOptions>(options =>
            {
                options.XmlRepository = new DatabaseXmlRepository(provider.GetRequiredService<ConnectionFactory>(), provider.GetRequiredService<TimeProvider>());
                options.XmlEncryptor = new MasterKeyXmlEncryptor(provider.GetRequiredService<MasterKeyRing>());
            }));
        return builder;
    }
}
