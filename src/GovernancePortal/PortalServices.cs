using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Demo;
using GovernancePortal.Erasure;
using GovernancePortal.Grants;
using GovernancePortal.Home;
using GovernancePortal.Jobs;
using GovernancePortal.Holds;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Retention;
using GovernancePortal.Sessions;
using GovernancePortal.Subjects;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace GovernancePortal;

public static class PortalServices
{
    /// <summary>Registers the library: data access, encryption, features. Shared by the web host, gp and the tests.</summary>
    public static IServiceCollection AddPortalCore(this IServiceCollection services, PortalSettings settings)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(settings);
        services.AddSingleton(settings.Database);
        services.AddSingleton(settings.MasterKeys);
        services.AddSingleton(settings.GrantRules);
        services.AddSingleton(settings.RetentionRules);
        services.AddSingleton(settings.AuditRules);
        services.AddSingleton(settings.PauseRules);
        services.AddSingleton(settings.ErasureRules);
        services.AddSingleton<ConnectionFactory>();
        services.AddSingleton(provider => provider.GetRequiredService<ConnectionFactory>().Dialect);
        services.AddSingleton<SchemaMigrator>();
        services.AddSingleton<DataKeyStore>();
        services.AddSingleton<MasterKeyRotation>();
        services.AddSingleton<SigningKeys>();
        services.AddSingleton<AccessEvents>();
        services.AddSingleton<RecordStore>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<SubjectDirectory>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<ProgramQueries>();
        services.AddSingleton<MyDataSummary>();
        services.AddSingleton<MyRecords>();
        services.AddSingleton<RequestDesk>();
        services.AddSingleton<Revocations>();
        services.AddSingleton<Withdrawals>();
        services.AddSingleton<SubjectExport>();
        services.AddSingleton<ProgramEditor>();
        services.AddSingleton<PauseSwitch>();
        services.AddSingleton<CollectorRegistry>();
        services.AddSingleton<CollectionService>();
        services.AddSingleton<GrantQueries>();
        services.AddSingleton<GrantDesk>();
        services.AddSingleton<GrantReader>();
        services.AddSingleton<GrantExposure>();
        services.AddSingleton<RoleRoster>();
        services.AddSingleton<AuditSearch>();
        services.AddSingleton<AuditTree>();
        services.AddSingleton<AuditExport>();
        services.AddSingleton<CheckpointTrigger>();
        services.AddSingleton<CheckpointStore>();
        services.AddSingleton<CheckpointJob>();
        services.AddHostedService<CheckpointWorker>();
        services.AddSingleton<AuditVerifier>();
        services.AddSingleton<AuditVerificationJob>();
        services.AddSingleton<AccessHistory>();
        services.AddSingleton<RetentionSweep>();
        services.AddSingleton<RetentionSweepJob>();
        services.AddSingleton<RetentionQueries>();
        services.AddSingleton<JobRuns>();
        services.AddSingleton<PauseCheck>();
        services.AddSingleton<PauseCheckJob>();
        services.AddSingleton<GrantExpiry>();
        services.AddSingleton<GrantExpiryJob>();
        services.AddSingleton<RequestDeadlines>();
        services.AddSingleton<RequestDeadlinesJob>();
        services.AddSingleton<OfficerHome>();
        services.TryAddSingleton<IErasureQueue, NoErasureQueue>();
        services.AddSingleton<ErasureSweep>();
        services.AddSingleton<ErasureSweepJob>();
        services.AddSingleton<LegalHolds>();
        services.AddSingleton<DemoData>();
        return services;
    }
}
