// Command coverage is the admin stack's scheduled check: every account and
// region of the organization against the StackSet's instances and the
// heartbeats, and the operations topic told of any not covered. Wiring
// only.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/coverage"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", "coverage")
	cfg, err := coverage.WatchConfigFromEnv(os.LookupEnv)
	if err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
	aws, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
	w := &coverage.Watch{
		Sources: coverage.Sources{Organization: organizations.NewFromConfig(aws), Instances: cloudformation.NewFromConfig(aws)},
		Config:  cfg,
		Alerts:  &alert.Sender{SNS: sns.NewFromConfig(aws), TopicARN: cfg.OpsTopicARN, OpsTopicARN: cfg.OpsTopicARN},
		Log:     log,
	}
	if cfg.HeartbeatTable != "" {
		w.Sources.Heartbeats = dynamodb.NewFromConfig(aws)
	}
	lambda.Start(w.Handle)
}
