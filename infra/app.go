// Command infra is bucketguard's CDK app: one stack per configured region.
// It is the only place that reads context or the environment; constructs
// take props. Run it through the CDK CLI (cdk.json): `npx cdk synth`.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	settings, err := ParseSettings(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) }, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bucketguard: invalid CDK context:\n%v\n", err)
		os.Exit(1)
	}
	dist, _ := filepath.Abs("dist")
	if v, ok := os.LookupEnv("BUCKETGUARD_DIST"); ok {
		dist = v
	}
	org, err := ParseOrg(app.Node().TryGetContext(jsii.String("org")), settings.Regions)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bucketguard: invalid CDK context:\n%v\n", err)
		os.Exit(1)
	}
	NewApp(app, settings, dist)
	if org.Enabled {
		// make synth-org: the member template, the asset buckets and the
		// admin stack, beside the per-account stacks.
		NewOrg(app, &OrgProps{Settings: settings, Org: org, Dist: dist})
	}
	app.Synth(nil)
}

// NewApp adds one stack per region to app, and the AwsSolutions checks.
func NewApp(app awscdk.App, s Settings, dist string) []*Stack {
	var stacks []*Stack
	for i, region := range s.Regions {
		env := &awscdk.Environment{Region: jsii.String(region)}
		if s.Account != "" {
			env.Account = jsii.String(s.Account)
		}
		stacks = append(stacks, NewStack(app, "BucketGuard-"+region, &StackProps{
			StackProps: awscdk.StackProps{
				Env:         env,
				Description: jsii.String("bucketguard: keeps S3 buckets from being left open"),
			},
			Settings: s,
			Dist:     dist,
			// A multi-region trail needs creating once: in the first region.
			Trail: s.CreateTrail && i == 0,
		}))
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return stacks
}
