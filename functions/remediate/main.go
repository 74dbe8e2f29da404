// Command remediate is the Lambda function behind the EventBridge rule: one
// CloudTrail event in, a remediated bucket and one alert out; a guarded
// call from a watchdog rule starts a sweep. Wiring only: the shared
// start-up, then the shared handler.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/bucketguard/bucketguard/remediations/handler"
	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

func main() {
	k, err := startup.Lambda(context.Background(), "remediate", os.LookupEnv, os.Stdout)
	if err != nil {
		k.Log.Error("start", "err", err)
		os.Exit(1)
	}
	h := &handler.Handler{Incidents: k.Incidents, Self: startup.SelfSessions(k.Config, os.LookupEnv), Log: k.Log, RequestID: requestID}
	if k.Config.SweepFunction != "" && k.Config.LedgerTable != "" {
		// A guarded call starts a sweep at once, one running at most.
		h.Sweeps = &handler.Sweeps{
			Invoker: startup.SweepFunction{Client: awslambda.NewFromConfig(k.AWS.Config), Name: k.Config.SweepFunction},
			Lease:   &ledger.Store{DB: k.AWS.DynamoDB, Table: k.Config.LedgerTable},
		}
	}
	lambda.Start(h.Handle)
}

func requestID(ctx context.Context) string {
	lc, _ := lambdacontext.FromContext(ctx)
	if lc == nil {
		return ""
	}
	return lc.AwsRequestID
}
