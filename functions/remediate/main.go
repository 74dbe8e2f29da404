// Command remediate is the Lambda function behind the EventBridge rule: one
// CloudTrail event in, a remediated bucket and one alert out. Wiring only:
// configuration, clients, the shared handler.
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
	"github.com/bucketguard/bucketguard/remediations/handler"
)

func main() {
	cfg, err := config.FromEnv(os.LookupEnv)
	if err == nil {
		err = cfg.CheckLambda()
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel})).With("function", "remediate")
	if err != nil {
		log.Error("config", "err", err)
		os.Exit(1)
	}
	aws, err := clients.Load(context.Background())
	if err != nil {
		log.Error("clients", "err", err)
		os.Exit(1)
	}
	h := &handler.Handler{
		Engine: &remediations.Engine{S3: aws.S3, Control: aws.Control, Config: cfg},
		Alerts: &alert.Sender{SNS: aws.SNS, TopicARN: cfg.TopicARN, Fallback: aws.SQS, FallbackURL: cfg.FallbackQueueURL,
			Ledger: aws.DynamoDB, LedgerTable: cfg.LedgerTable},
		Self: cfg.SelfRoles,
		Log:  log,
	}
	lambda.Start(h.Handle)
}
