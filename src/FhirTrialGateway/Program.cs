using System.CommandLine;
using FhirTrialGateway.Auth;
using FhirTrialGateway.Audit;
using FhirTrialGateway.Hosting;
using FhirTrialGateway.Validation;

// fhirgw: one executable, several commands. Serving the FHIR API is the default; later commands (validate,
// import, clients, audit) are added beside "serve". Tokens the command line does not know (--urls,
// --Storage:Sqlite:Path=..., --Auth:Enabled=false) are handed to ASP.NET configuration untouched.
var serve = new Command("serve", "Serve the FHIR R4 REST API (the default command).") { TreatUnmatchedTokensAsErrors = false };
var root = new RootCommand("FhirTrialGateway: a FHIR R4 gateway for interventional clinical trials.")
{
    TreatUnmatchedTokensAsErrors = false,
};
root.Subcommands.Add(serve);
root.Subcommands.Add(ValidateCommand.CreateCommand());
root.Subcommands.Add(ClientsCommand.Create());
root.Subcommands.Add(FhirTrialGateway.Mapping.ImportCommand.Create());
root.Subcommands.Add(AuditCommand.Create());

serve.SetAction((parse, cancellationToken) => Serve(parse, cancellationToken));
root.SetAction((parse, cancellationToken) => Serve(parse, cancellationToken));
// The web host handles SIGTERM/Ctrl+C itself (graceful shutdown: stop accepting, finish in-flight requests, drain the
// writer); System.CommandLine's own termination timeout would kill the process before that completes.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

static async Task<int> Serve(ParseResult parse, CancellationToken cancellationToken)
{
    await using var app = GatewayApp.Build([.. parse.UnmatchedTokens]);
    await app.RunAsync();
    return 0;
}

/// <summary>Entry point type, public so tests and tools can reference the assembly.</summary>
public partial class Program;
