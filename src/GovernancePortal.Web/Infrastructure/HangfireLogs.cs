using Hangfire.Logging;
using HangfireLevel = Hangfire.Logging.LogLevel;
using MsLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace GovernancePortal.Web.Infrastructure;

/// <summary>
/// Hangfire's logs into the host's logging. Hangfire keeps its log provider in a static, so when several
/// hosts share a process (the test hosts, gp bench) the last one to start sets it and may have been
/// disposed when another host's Hangfire logs; Hangfire's own provider then throws at job setup. This one
/// asks the host's factory at each message and drops messages once that host is gone.
/// </summary>
internal sealed class HangfireLogs(ILoggerFactory factory) : ILogProvider
{
    public ILog GetLogger(string name) => new NamedLog(factory, name);

    private sealed class NamedLog(ILoggerFactory factory, string name) : ILog
    {
        public bool Log(HangfireLevel logLevel, Func<string> messageFunc, Exception? exception = null)
        {
            ILogger logger;
            try
            {
                logger = factory.CreateLogger(name);
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
            var level = logLevel switch
            {
                HangfireLevel.Trace => MsLogLevel.Trace,
                HangfireLevel.Debug => MsLogLevel.Debug,
                HangfireLevel.Info => MsLogLevel.Information,
                HangfireLevel.Warn => MsLogLevel.Warning,
                HangfireLevel.Error => MsLogLevel.Error,
                _ => MsLogLevel.Critical,
            };
            // Hangfire asks whether a level is on by passing no message.
            if (messageFunc is null)
                return logger.IsEnabled(level);
            if (logger.IsEnabled(level))
                logger.Log(level, exception, "{Message}", messageFunc());
            return true;
        }
    }
}
