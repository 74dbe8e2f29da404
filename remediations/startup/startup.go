// Package startup is what each bucketguard Lambda function (and the demo)
// does before its first event: parse the settings once, build a JSON logger,
// load the SDK clients from the standard configuration, and wire the engine
// and the alert sender from them. The functions' mains keep only what
// differs.
package startup

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/clients"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/read"
)

// Kit is a started function's parts.
type Kit struct {
	Config config.Config
	Log    *slog.Logger
	AWS    clients.Set
	Engine *remediations.Engine
	Alerts *alert.Sender
}

// Lambda starts the function named function. lookup reads the environment
// (os.LookupEnv). Log is set even when an error is returned, so that the
// caller can log the error in the function's JSON format before it exits.
func Lambda(ctx context.Context, function string, lookup func(string) (string, bool), logTo io.Writer) (Kit, error) {
	cfg, err := config.FromEnv(lookup)
	if err == nil {
		err = cfg.CheckLambda()
	}
	k := Kit{
		Config: cfg,
		Log:    slog.New(slog.NewJSONHandler(logTo, &slog.HandlerOptions{Level: cfg.LogLevel})).With("function", function),
	}
	if err != nil {
		return k, fmt.Errorf("settings: %w", err)
	}
	k.AWS, err = clients.Load(ctx, awsconfig.WithHTTPClient(clients.HTTPClient(cfg.CallTimeout, Conns(cfg))))
	if err != nil {
		return k, fmt.Errorf("clients: %w", err)
	}
	k.Engine, k.Alerts = Parts(cfg, k.AWS)
	return k, nil
}

// Parts wires the engine and the alert sender (topic, fallback queue and
// ledger, each as configured) from the settings and the clients.
func Parts(cfg config.Config, aws clients.Set) (*remediations.Engine, *alert.Sender) {
	e := &remediations.Engine{S3: aws.S3, Control: aws.Control, Config: cfg}
	s := &alert.Sender{
		SNS: aws.SNS, TopicARN: cfg.TopicARN,
		Fallback: aws.SQS, FallbackURL: cfg.FallbackQueueURL,
		Ledger: aws.DynamoDB, LedgerTable: cfg.LedgerTable,
		PublishTimeout: cfg.CallTimeout,
	}
	if cfg.LedgerTable != "" {
		store := &ledger.Store{DB: aws.DynamoDB, Table: cfg.LedgerTable}
		e.Approvals, e.Journal, s.Incidents = store, store, store
	}
	return e, s
}

// Conns is the work a function has in flight against one host at most: each
// bucket evaluated at once sends its whole read round together (the sweep
// runs SweepConcurrency of them, the remediate function one), and an
// evaluation has at most read.MaxAccessPointReads access point reads in
// flight. The connection pool keeps that many idle connections, so that a
// warm function opens almost none.
func Conns(cfg config.Config) int {
	perBucket := len(read.Needs{Bucket: true, AccountBPA: true, Versioning: true, Logging: true}.Ops()) + 2 // the re-read and the ledger
	return max(1, cfg.SweepConcurrency)*perBucket + read.MaxAccessPointReads
}
