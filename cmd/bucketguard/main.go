// Command bucketguard is the operator CLI. It runs on the same packages as
// the Lambda functions:
//
//	bucketguard explain-policy [--access-point] [--aws] FILE|-   judge a policy (JSON)
//	bucketguard explain-acl FILE|-         judge a bucket ACL (JSON)
//	bucketguard parse-event [--self-role ARN] FILE|-
//	bucketguard check BUCKET               findings and plan; writes nothing
//	bucketguard remediate BUCKET [--dry-run]
//	bucketguard replay EVENT.json [--dry-run]
//	bucketguard undo BUCKET --until TIME [--incident ID] [--dry-run]
//	bucketguard scan [--fix] [--format json|table|ocsf] [--region R]... [--concurrency N]
//	bucketguard coverage --region R... [--heartbeats TABLE] [--json]
//
// Exit status: 0 done; 1 an AWS or runtime failure; 2 invalid input or
// usage; 3 (check, scan) findings, (coverage) an account and region
// uncovered.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses.
const (
	exitOK       = 0
	exitFailure  = 1
	exitInvalid  = 2
	exitFindings = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first Ctrl-C asks for a clean stop; the next one, with the
		// default handling restored, ends the process.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name  string
	usage string
	run   func(ctx context.Context, env *cli, args []string) error
}

var commands = []command{
	{"explain-policy", "explain-policy [--access-point [--network-origin Internet|VPC]] [--aws] FILE|-\n  Judge a bucket policy (or an access point's) by AWS's meaning of \"public\".\n  With --aws, ask IAM Access Analyzer too and print both verdicts. Prints JSON.", explainPolicy},
	{"explain-acl", "explain-acl FILE|-\n  Judge a bucket ACL as `aws s3api get-bucket-acl` prints it. Prints JSON.", explainACL},
	{"parse-event", "parse-event [--self-role ARN] FILE|-\n  Parse an EventBridge CloudTrail event as Lambda receives it. Prints JSON.", parseEvent},
	{"check", "check [--json] BUCKET\n  Read BUCKET's posture and print the findings and the plan. Writes nothing.\n  Exit 3 when there are findings.", check},
	{"remediate", "remediate [--dry-run] [--json] BUCKET\n  Fix BUCKET now, read back and print the alert; publish it when\n  BUCKETGUARD_TOPIC_ARN is set (not with --dry-run).", remediate},
	{"replay", "replay [--dry-run] [--json] [--function NAME] EVENT.json\n  Run a saved event through the remediate function's exact code path.\n  With --function (the remediate function's name), skip only its own\n  sessions and the sweep's, as the function does.", replay},
	{"undo", "undo BUCKET --until TIME [--incident ID] [--dry-run] [--json]\n  Put back what bucketguard changed on BUCKET in its latest incident (the\n  policy less public write, and the Block Public Access that decides it),\n  only where the bucket still holds what bucketguard wrote, and approve\n  public read until TIME (RFC 3339) in the same step. Never public write.\n  Tells the owner and the operations topic who ran it. Needs\n  BUCKETGUARD_ALERT_LEDGER_TABLE.", undoCommand},
	{"scan", "scan [--fix] [--format json|table|ocsf] [--region R]... [--concurrency N]\n  Evaluate every bucket of the account (or of the regions given), as the\n  scheduled sweep does, and print one JSON document (the default), a\n  table, or OCSF findings a line. Writes nothing without --fix. Ctrl-C\n  stops after the buckets in flight. Exit 3 when findings remain.", scan},
	{"coverage", "coverage --region R[,R]... [--heartbeats TABLE] [--stack-set NAME] [--call-as DELEGATED_ADMIN|SELF] [--max-age 26h] [--json]\n  Every account of the organization × every region: covered (the StackSet's\n  stack current and, with --heartbeats, a heartbeat within --max-age) or why\n  not; the management account, which StackSets never reach; suspended\n  accounts. A table, or one JSON object a line. Exit 3 when any is uncovered.", coverageCmd},
	{"publish", "publish --region R[,R]... --version V [--home R] [--dist dist] [--template FILE] [--dry-run]\n  Publish a version for the organization's StackSet, from the admin account:\n  remediate.zip and sweep.zip to each region's asset bucket, the member\n  template to the home region's, under bucketguard/V/. A version is written\n  once: an object already there with other bytes stops the run.", publish},
}

// cli is what a subcommand runs with.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// aws builds the AWS-backed dependencies on first use; tests swap it.
	aws func(ctx context.Context) (*deps, error)
	// made are the dependencies built for the command (withFlush).
	made []*deps
}

// usageError marks bad usage or bad input: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func invalid(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// findingsError marks a check that found something: exit 3.
var errFindings = errors.New("findings")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(ctx, args, &cli{stdin: stdin, stdout: stdout, stderr: stderr, aws: awsDeps})
}

func runWith(ctx context.Context, args []string, c *cli) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(c.stdout)
		if len(args) == 0 {
			return exitInvalid
		}
		return exitOK
	}
	for _, cmd := range commands {
		if cmd.name != args[0] {
			continue
		}
		cc := withFlush(c)
		err := cmd.run(ctx, cc, args[1:])
		for _, d := range cc.made {
			d.flushFindings(context.WithoutCancel(ctx))
		}
		var ue usageError
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, errHelp):
			fmt.Fprintf(c.stdout, "usage: bucketguard %s\n", cmd.usage)
			return exitOK
		case errors.Is(err, errFindings):
			return exitFindings
		case errors.As(err, &ue):
			fmt.Fprintf(c.stderr, "bucketguard %s: %v\n", cmd.name, err)
			return exitInvalid
		default:
			fmt.Fprintf(c.stderr, "bucketguard %s: %v\n", cmd.name, err)
			return exitFailure
		}
	}
	fmt.Fprintf(c.stderr, "bucketguard: unknown command %q\n", args[0])
	usage(c.stderr)
	return exitInvalid
}

// withFlush is the cli that remembers the AWS dependencies it builds, so
// that once the command returns the Security Hub findings they still batch
// are imported (an interrupted scan's too).
func withFlush(c *cli) *cli {
	out := *c
	build := c.aws
	out.aws = func(ctx context.Context) (*deps, error) {
		d, err := build(ctx)
		if d != nil {
			out.made = append(out.made, d)
		}
		return d, err
	}
	return &out
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: bucketguard COMMAND [flags] [args]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %s\n\n", c.usage)
	}
	fmt.Fprintln(w, "AWS access uses the SDK's standard configuration: AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL.")
	fmt.Fprintln(w, "Settings come from the BUCKETGUARD_* variables (docs/configuration.md).")
}
