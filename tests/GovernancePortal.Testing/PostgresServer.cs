using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Npgsql;
using Xunit.v3;

namespace GovernancePortal.Testing;

/// <summary>
/// The PostgreSQL server of a test process (docs/testing.md): the server named by
/// <c>GOVERNANCE_TEST_POSTGRES</c> when set, else a throwaway cluster started from the local binaries
/// on first use and stopped when the process exits. Without either, tests that need it are skipped,
/// or fail when <c>CI=true</c>, because there a skipped PostgreSQL test is a test that did not run.
/// </summary>
public static class PostgresServer
{
    public const string EnvironmentVariable = "GOVERNANCE_TEST_POSTGRES";

    private static readonly Lazy<Task<Server>> Instance = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Creates an empty database with a unique name and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var server = await Instance.Value;
        if (server.AdminConnectionString is null)
            throw Unavailable(server.Problem!);

        var name = "gp_test_" + Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(server.AdminConnectionString))
        {
            await admin.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE template0", admin);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        return new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing what is still connected to it.</summary>
    public static async Task DropDatabaseAsync(string connectionString)
    {
        var server = await Instance.Value;
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        if (server.AdminConnectionString is null || name is null || !name.StartsWith("gp_test_", StringComparison.Ordinal))
            return;
        await using var admin = new NpgsqlConnection(server.AdminConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    private static Exception Unavailable(string problem)
    {
        var reason = $"PostgreSQL is not available: {problem}";
        return string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? new PostgresUnavailableException(reason + " (CI=true: a skipped PostgreSQL test is a failure)")
            // The dynamic skip contract of xunit v3, as Assert.Skip throws it.
            : new PostgresUnavailableException(DynamicSkipToken.Value + reason);
    }

    private sealed record Server(string? AdminConnectionString, string? Problem);

    private static async Task<Server> StartAsync()
    {
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            var admin = new NpgsqlConnectionStringBuilder(external) { Pooling = false }.ConnectionString;
            var problem = await ProbeAsync(admin);
            return problem is null ? new Server(admin, null) : Report(new Server(null, $"{EnvironmentVariable} is set but the server refused: {problem}"));
        }
        if (OperatingSystem.IsWindows())
            return Report(new Server(null, $"{EnvironmentVariable} is not set; the throwaway cluster is only started on Linux and macOS"));
        try
        {
            return Report(await LocalCluster.StartAsync());
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            return Report(new Server(null, $"the throwaway cluster could not be started: {exception.Message}"));
        }
    }

    private static Server Report(Server server)
    {
        if (server.Problem is not null)
            Console.Error.WriteLine($"PostgreSQL tests will not run: {server.Problem}");
        return server;
    }

    private static async Task<string?> ProbeAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            return null;
        }
        catch (Exception exception) when (exception is NpgsqlException or ArgumentException)
        {
            return exception.Message;
        }
    }

    /// <summary>
    /// A cluster in a temporary folder: loopback only, trust authentication, fsync off. Run as the
    /// <c>postgres</c> user when the tests run as root, because initdb refuses root.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    private static class LocalCluster
    {
        private const string FolderPrefix = "gp-pg-";
        private const string OwnerFile = "owner.pid";

        // In memory where there is a /dev/shm: creating a database there takes a fifth of the time it takes on disk.
        private static readonly string Root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

        public static async Task<Server> StartAsync()
        {
            var bin = FindBinaries();
            if (bin is null)
                return new Server(null, $"{EnvironmentVariable} is not set and no initdb and pg_ctl were found on PATH or under /usr/lib/postgresql/*/bin (apt-get install postgresql)");
            var runAs = Environment.IsPrivilegedProcess ? "postgres" : null;
            if (runAs is not null && await RunAsync("id", ["-u", runAs], null) is { ExitCode: not 0 })
                return new Server(null, "the tests run as root and there is no 'postgres' user to run initdb as");

            await StopOrphansAsync(bin, runAs);

            var folder = Path.Combine(Root, FolderPrefix + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await File.WriteAllTextAsync(Path.Combine(folder, OwnerFile), Environment.ProcessId.ToString());
            if (runAs is not null)
                await RunAsync("chown", [runAs, folder], null);
            var data = Path.Combine(folder, "data");

            var init = await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"], runAs);
            if (init.ExitCode != 0)
                return Failed(folder, $"initdb failed: {init.Output}");
            await File.WriteAllTextAsync(Path.Combine(data, "pg_hba.conf"), """
                local all all trust
                host  all all 127.0.0.1/32 trust
                """);

            for (var attempt = 1; ; attempt++)
            {
                var port = FreeLoopbackPort();
                await File.WriteAllTextAsync(Path.Combine(data, "postgresql.auto.conf"), $"""
                    listen_addresses = '127.0.0.1'
                    port = {port}
                    unix_socket_directories = '{folder}'
                    max_connections = 300
                    wal_level = minimal
                    max_wal_senders = 0
                    fsync = off
                    synchronous_commit = off
                    full_page_writes = off
                    """);
                var start = await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(folder, "postgres.log"), "-w", "-t", "60", "start"], runAs);
                if (start.ExitCode == 0)
                {
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(bin, folder, runAs);
                    return new Server($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false", null);
                }
                // Another process may have taken the port between probing and binding it.
                if (attempt == 3)
                {
                    var log = Path.Combine(folder, "postgres.log");
                    return Failed(folder, $"pg_ctl start failed: {start.Output} {(File.Exists(log) ? File.ReadAllText(log) : "")}");
                }
            }
        }

        private static Server Failed(string folder, string problem)
        {
            Directory.Delete(folder, recursive: true);
            return new Server(null, problem.Trim());
        }

        private static void Stop(string bin, string folder, string? runAs)
        {
            try
            {
                RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", Path.Combine(folder, "data"), "-m", "immediate", "stop"], runAs).GetAwaiter().GetResult();
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
            {
                // Exiting anyway; the next test process stops and removes what is left (StopOrphansAsync).
            }
        }

        /// <summary>Stops clusters left behind by test processes that were killed before they could stop theirs.</summary>
        private static async Task StopOrphansAsync(string bin, string? runAs)
        {
            foreach (var folder in Directory.GetDirectories(Root, FolderPrefix + "*"))
            {
                var owner = Path.Combine(folder, OwnerFile);
                try
                {
                    if (!File.Exists(owner) || !int.TryParse(File.ReadAllText(owner), out var pid) || IsRunning(pid))
                        continue;
                    if (File.Exists(Path.Combine(folder, "data", "postmaster.pid")))
                        await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", Path.Combine(folder, "data"), "-m", "immediate", "stop"], runAs);
                    Directory.Delete(folder, recursive: true);
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    // Another user's leftovers: not ours to clean.
                }
            }
        }

        private static bool IsRunning(int pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        private static string? FindBinaries()
        {
            var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
            var debian = Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql")
                    .OrderByDescending(dir => int.TryParse(Path.GetFileName(dir), out var version) ? version : 0)
                    .Select(dir => Path.Combine(dir, "bin"))
                : [];
            return onPath.Concat(debian).FirstOrDefault(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
        }

        private static int FreeLoopbackPort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments, string? runAs)
        {
            var start = new ProcessStartInfo(runAs is null ? program : "runuser")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            if (runAs is not null)
            {
                foreach (var argument in (string[])["-u", runAs, "--", program])
                    start.ArgumentList.Add(argument);
            }
            foreach (var argument in arguments)
                start.ArgumentList.Add(argument);

            using var process = Process.Start(start)!;
            process.StandardInput.Close();
            // The server itself writes to its log file (pg_ctl -l), so these pipes close when the command exits.
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await stdout + await stderr);
        }
    }
}

/// <summary>Thrown where a test needs PostgreSQL and none is available; its message carries the skip or failure reason.</summary>
public sealed class PostgresUnavailableException(string message) : Exception(message);
