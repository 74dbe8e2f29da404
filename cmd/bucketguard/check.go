package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// resultJSON is the --json output of check and remediate.
type resultJSON struct {
	remediations.Result
	Posture   *posture.Posture `json:"posture"`
	MessageID string           `json:"message_id,omitempty"`
}

func bucketArg(args []string) (string, error) {
	if len(args) != 1 {
		return "", invalid("want one bucket name, got %d arguments", len(args))
	}
	if !events.ValidBucketName(args[0]) {
		return "", invalid("%q is not a bucket name", args[0])
	}
	return args[0], nil
}

// bucketCommand parses a command that takes one bucket, and finds the
// bucket's account and region.
func bucketCommand(ctx context.Context, c *cli, name string, args []string, define func(*flag.FlagSet)) (*deps, posture.Target, error) {
	args, err := flags(name, args, define)
	if err != nil {
		return nil, posture.Target{}, err
	}
	bucket, err := bucketArg(args)
	if err != nil {
		return nil, posture.Target{}, err
	}
	d, err := c.aws(ctx)
	if err != nil {
		return nil, posture.Target{}, err
	}
	t, err := d.target(ctx, c, bucket)
	return d, t, err
}

func check(ctx context.Context, c *cli, args []string) error {
	var asJSON bool
	d, t, err := bucketCommand(ctx, c, "check", args, func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print JSON") })
	if err != nil {
		return err
	}
	res, err := d.engine(config.Notify, t.Region).Evaluate(ctx, t, nil, d.Log)
	if err != nil {
		return err
	}
	if err := show(c, res, asJSON, ""); err != nil {
		return err
	}
	if len(res.Findings) > 0 {
		return errFindings
	}
	return nil
}

func remediate(ctx context.Context, c *cli, args []string) error {
	var asJSON, dryRun bool
	d, t, err := bucketCommand(ctx, c, "remediate", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.BoolVar(&dryRun, "dry-run", false, "plan and print; write and publish nothing")
	})
	if err != nil {
		return err
	}
	mode := d.Config.Mode
	if dryRun {
		mode = config.Notify
	}
	out, _ := d.incidents(mode, t.Region, !dryRun).Run(ctx, incident.Incident{Target: t, Attempts: 1}, d.Log)
	res, runErr := out.Result, out.EvalErr
	if out.Receipt.Delivery == contract.Undelivered {
		fmt.Fprintf(c.stderr, "bucketguard remediate: alert not delivered: %v\n", out.Receipt.Err)
	}
	id := out.Receipt.MessageID
	if err := show(c, res, asJSON, id); err != nil {
		return err
	}
	if runErr != nil {
		return runErr
	}
	if res.Status == contract.Partial || res.Status == contract.Failed {
		return fmt.Errorf("status %s: see the actions above", res.Status)
	}
	return nil
}

// show prints a result: the alert text an owner would read, or JSON.
func show(c *cli, res remediations.Result, asJSON bool, messageID string) error {
	if asJSON {
		return printJSON(c.stdout, resultJSON{Result: res, Posture: res.Before, MessageID: messageID})
	}
	if len(res.Findings) == 0 {
		_, err := fmt.Fprintf(c.stdout, "%s: clean (%s)\n", where(res.Target), res.Target.Region)
		return err
	}
	m := alert.Render(res)
	_, err := fmt.Fprintf(c.stdout, "Subject: %s\n\n%s", m.Subject, m.Text)
	if err == nil && messageID != "" {
		_, err = fmt.Fprintf(c.stdout, "\nPublished as SNS message %s.\n", messageID)
	}
	return err
}

func where(t posture.Target) string {
	if t.Bucket == "" {
		return "account " + t.Account
	}
	return t.Bucket
}
