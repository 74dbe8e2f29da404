// Command sweep is the scheduled Lambda function that evaluates every bucket
// of its region with the remediate function's engine, continuing in a new
// invocation when its time runs short, and ends each run with one summary
// alert. Wiring only.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/bucketguard/bucketguard/remediations/startup"
	"github.com/bucketguard/bucketguard/remediations/sweep"
	"github.com/bucketguard/bucketguard/remediations/trail"
)

func main() {
	k, err := startup.Lambda(context.Background(), "sweep", os.LookupEnv, os.Stdout)
	if err != nil {
		k.Log.Error("start", "err", err)
		os.Exit(1)
	}
	h := &sweep.Handler{
		Invocation: invocation,
		Incidents:  k.Incidents,
		List:       k.AWS.S3,
		Next:       awslambda.NewFromConfig(k.AWS.Config),
		Options: sweep.Options{
			Region:      k.AWS.Config.Region, // each regional stack sweeps its own region
			Concurrency: k.Config.SweepConcurrency,
			PageSize:    1000,
			Margin:      k.Config.SweepMargin,
		},
		MaxParts:     100,
		StackRegions: k.Config.StackRegions,
		// The home region's sweep checks that a trail feeds the rule.
		Trails: func(region string) trail.Client {
			cfg := k.AWS.Config.Copy()
			cfg.Region = region
			return cloudtrail.NewFromConfig(cfg)
		},
		Log: k.Log,
	}
	if k.Findings != nil {
		h.Findings, h.Reconciler = k.Findings, k.Findings
	}
	if bus := k.Config.HeartbeatBus; bus != "" {
		// The bus is in the admin account's region: PutEvents goes there.
		h.Heartbeat = &sweep.Heartbeat{Client: k.Central, Bus: bus}
	}
	lambda.Start(h.Handle)
}

func invocation(ctx context.Context) (sweep.Invocation, bool) {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return sweep.Invocation{}, false
	}
	return sweep.Invocation{RequestID: lc.AwsRequestID, FunctionARN: lc.InvokedFunctionArn}, true
}
