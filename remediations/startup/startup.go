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

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/clients"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/ledger"
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
	k.AWS, err = clients.Load(ctx)
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
	if cfg.LedgerTable != "" {
		e.Approvals = &ledger.Store{DB: aws.DynamoDB, Table: cfg.LedgerTable}
	}
	return e,
		&alert.Sender{
			SNS: aws.SNS, TopicARN: cfg.TopicARN,
			Fallback: aws.SQS, FallbackURL: cfg.FallbackQueueURL,
			Ledger: aws.DynamoDB, LedgerTable: cfg.LedgerTable,
		}
}
