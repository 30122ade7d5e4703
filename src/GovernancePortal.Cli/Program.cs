using GovernancePortal.Cli;

return await GpCommand.RunAsync(args, Console.Out, Console.Error);
