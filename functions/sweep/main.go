// Command sweep is the scheduled Lambda function that evaluates every bucket
// of its region with the remediate function's engine, continuing in a new
// invocation when its time runs short, and ends each run with one summary
// alert. Wiring only.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/clients"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

func main() {
	cfg, err := config.FromEnv(os.LookupEnv)
	if err == nil {
		err = cfg.CheckLambda()
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel})).With("function", "sweep")
	if err != nil {
		log.Error("config", "err", err)
		os.Exit(1)
	}
	aws, err := clients.Load(context.Background())
	if err != nil {
		log.Error("clients", "err", err)
		os.Exit(1)
	}
	h := &sweep.Handler{
		Engine: &remediations.Engine{S3: aws.S3, Control: aws.Control, Config: cfg},
		List:   aws.S3,
		Alerts: &alert.Sender{SNS: aws.SNS, TopicARN: cfg.TopicARN, Fallback: aws.SQS, FallbackURL: cfg.FallbackQueueURL,
			Ledger: aws.DynamoDB, LedgerTable: cfg.LedgerTable},
		Next: aws.Lambda,
		Options: sweep.Options{
			Region:      aws.Config.Region, // each regional stack sweeps its own region
			Concurrency: cfg.SweepConcurrency,
			PageSize:    1000,
			Margin:      cfg.SweepMargin,
		},
		MaxParts: 100,
		Log:      log,
	}
	lambda.Start(h.Handle)
}
