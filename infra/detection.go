package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/events"
)

// DetectionProps says what the rule sends where.
type DetectionProps struct {
	Target awslambda.IFunction
	// SelfSessionARNs are bucketguard's own sessions, one per function
	// (arn:<partition>:sts::<account>:assumed-role/<role>/<function>, as
	// Lambda names an execution role's session): their changes never match.
	// Another session of the same role (a function someone else was allowed
	// to pass the role to) does.
	SelfSessionARNs []*string
	// DeadLetter keeps events EventBridge could not deliver.
	DeadLetter awssqs.IQueue
}

// Detection is the EventBridge rule on the default bus.
type Detection struct {
	constructs.Construct
	Rule awsevents.Rule
}

// RuleDetail is the detail part of the rule's pattern: S3 management calls
// with a watched name (the list in events, never retyped), that succeeded
// (no errorCode), and were not made by one of bucketguard's own sessions.
// The session test needs $or: an event without a userIdentity ARN (an AWS
// service) has no field for anything-but to match.
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
func RuleDetail(selfSessionARNs ...any) map[string]any {
	return map[string]any{
		"eventSource": []any{events.EventSource},
		"eventName":   toAny(events.WatchedNames()),
		"errorCode":   []any{map[string]any{"exists": false}},
		"$or": []any{
			map[string]any{"userIdentity": map[string]any{"arn": []any{map[string]any{"exists": false}}}},
			map[string]any{"userIdentity": map[string]any{"arn": []any{map[string]any{"anything-but": selfSessionARNs}}}},
		},
	}
}

// SessionARN is the ARN of the session Lambda gives a function's execution
// role: named after the function, without the role's path.
func SessionARN(role awsiam.IRole, fn awslambda.IFunction) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":sts::"), awscdk.Aws_ACCOUNT_ID(),
		jsii.String(":assumed-role/"), role.RoleName(), jsii.String("/"), fn.FunctionName()})
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// NewDetection builds the rule and its target, with bounded retries and a
// dead-letter queue for events that cannot be delivered.
func NewDetection(scope constructs.Construct, id string, p *DetectionProps) *Detection {
	c := constructs.NewConstruct(scope, &id)
	var sessions []any
	for _, r := range p.SelfSessionARNs {
		sessions = append(sessions, *r)
	}
	detail := RuleDetail(sessions...)
	rule := awsevents.NewRule(c, jsii.String("Rule"), &awsevents.RuleProps{
		Description: jsii.String("bucketguard: S3 configuration changes from CloudTrail"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.s3"),
			DetailType: jsii.Strings(events.DetailType),
			Detail:     &detail,
		},
	})
	rule.AddTarget(awseventstargets.NewLambdaFunction(p.Target, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: p.DeadLetter,
		RetryAttempts:   jsii.Number(8),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
	}))
	return &Detection{Construct: c, Rule: rule}
}
