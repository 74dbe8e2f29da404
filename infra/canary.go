package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// CanaryProps configures the canary.
type CanaryProps struct {
	// Schedule is an EventBridge Scheduler expression: rate(1 hour).
	Schedule string
}

// Canary proves the event path end to end: on a schedule it makes one
// harmless watched change (PutBucketTagging) on a bucket of its own
// (private, encrypted, tagged), with a role of its own, which the detection
// rule does not exclude. The remediate function recognises the change and
// times it (CloudTrail's eventTime to its arrival); the stack alarms when
// none arrives. It needs no Lambda: EventBridge Scheduler calls S3 itself
// (a universal target).
// https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html
type Canary struct {
	constructs.Construct
	Bucket   awss3.Bucket
	Role     awsiam.Role
	Schedule awsscheduler.CfnSchedule
}

// CanaryTag marks the canary's bucket; CanaryAtTag carries the time the
// schedule fired.
const (
	CanaryTag   = "bucketguard:canary"
	CanaryAtTag = "bucketguard:canary-at"
)

// NewCanary builds the canary's bucket, role and schedule.
func NewCanary(scope constructs.Construct, id string, p *CanaryProps) *Canary {
	c := constructs.NewConstruct(scope, &id)
	bucket := awss3.NewBucket(c, jsii.String("Bucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		// It never holds an object: deleting the stack deletes it.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	awscdk.Tags_Of(bucket).Add(jsii.String(CanaryTag), jsii.String("true"), nil)
	suppress(bucket, "AwsSolutions-S1", "the canary's bucket holds no object: its only requests are the canary's own tagging, which CloudTrail records")
	account := awscdk.Aws_ACCOUNT_ID()
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}}}),
		Description: jsii.String("bucketguard canary: tags its own bucket on a schedule; its changes are evaluated like anyone's"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("TagTheCanaryBucket"), Actions: jsii.Strings("s3:PutBucketTagging"), Resources: &[]*string{bucket.BucketArn()}}))
	// The whole tag set, as PutBucketTagging replaces it; the scheduled
	// time is filled in by EventBridge Scheduler.
	input := awscdk.Stack_Of(c).ToJsonString(map[string]any{
		"Bucket": bucket.BucketName(),
		"Tagging": map[string]any{"TagSet": []any{
			map[string]any{"Key": CanaryTag, "Value": "true"},
			map[string]any{"Key": CanaryAtTag, "Value": "<aws.scheduler.scheduled-time>"},
		}},
	}, nil)
	schedule := awsscheduler.NewCfnSchedule(c, jsii.String("Schedule"), &awsscheduler.CfnScheduleProps{
		Description:        jsii.String("bucketguard canary: one harmless watched change, timed on its arrival"),
		ScheduleExpression: jsii.String(p.Schedule),
		FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:         jsii.String("arn:aws:scheduler:::aws-sdk:s3:putBucketTagging"),
			RoleArn:     role.RoleArn(),
			Input:       input,
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{MaximumRetryAttempts: jsii.Number(0)},
		},
	})
	return &Canary{Construct: c, Bucket: bucket, Role: role, Schedule: schedule}
}
