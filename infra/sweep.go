package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/op"
)

// SweepProps configures the sweep.
type SweepProps struct {
	RemediatorProps
	// Schedule is an EventBridge schedule expression: rate(1 day), cron(...).
	Schedule   string
	DeadLetter awssqs.IQueue
}

// NewSweep builds the scheduled sweep: a function like the remediator, with
// its own role (the remediator's actions plus config.SweepActions: listing
// the buckets and reading the trails, on "*"), the
// right to invoke itself to continue a run near its deadline, and the
// schedule rule.
func NewSweep(scope constructs.Construct, id string, p *SweepProps) *Remediator {
	props := p.RemediatorProps
	props.ExtraActions = append(props.ExtraActions, config.SweepActions()...)
	props.Environment = map[string]string{
		// Many buckets in a row: the standard retryer backs off per call;
		// the adaptive one, measured under throttling (make bench), slows
		// the whole run twentyfold (docs/sweep.md).
		"AWS_RETRY_MODE":   "standard",
		"AWS_MAX_ATTEMPTS": "5",
	}
	r := NewRemediator(scope, id, &props)
	// A statement of its own: in the role's default policy it would make the
	// function depend on itself.
	awsiam.NewPolicy(r.Construct, jsii.String("Continue"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{r.Role},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ContinueRun"),
			Actions:   jsii.Strings(op.Actions([]op.Operation{op.Invoke}, op.Function)...),
			Resources: &[]*string{r.Function.FunctionArn()},
		})},
	})
	if props.Engine.SecurityHub {
		// The reconciliation reads the finding states the ledger keeps,
		// once a run, to archive the findings of buckets that are gone.
		r.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReconcileFindings"),
			Actions:   jsii.Strings(op.Actions([]op.Operation{op.Scan}, op.Table)...),
			Resources: &[]*string{props.Ledger.TableArn()},
		}))
	}
	rule := awsevents.NewRule(r.Construct, jsii.String("Schedule"), &awsevents.RuleProps{
		Description: jsii.String("bucketguard: the scheduled sweep"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(p.Schedule)),
	})
	rule.AddTarget(awseventstargets.NewLambdaFunction(r.Function, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: p.DeadLetter,
		RetryAttempts:   jsii.Number(2),
	}))
	return r
}
