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
// harmless watched change on a bucket of its own (private, encrypted,
// tagged), with a role of its own, which the detection rule does not
// exclude: it sets the bucket's Block Public Access all on, as it already
// is (PutPublicAccessBlock, logged as PutBucketPublicAccessBlock). Not a
// tagging call: PutBucketTagging replaces the whole tag set, and S3 refuses
// a set that drops the aws:cloudformation:* tags CloudFormation puts on the
// bucket ("System tags cannot be removed by requester"), so the canary
// would fail every time. The remediate function recognises the change and
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

// CanaryTag marks the canary's bucket.
const CanaryTag = "bucketguard:canary"

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
	suppress(bucket, "AwsSolutions-S1", "the canary's bucket holds no object: its only requests are the canary's own Block Public Access writes, which CloudTrail records")
	account := awscdk.Aws_ACCOUNT_ID()
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}}}),
		Description: jsii.String("bucketguard canary: sets its own bucket's Block Public Access all on, on a schedule; its changes are evaluated like anyone's"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("BlockTheCanaryBucket"), Actions: jsii.Strings("s3:PutBucketPublicAccessBlock"), Resources: &[]*string{bucket.BucketArn()}}))
	// All four settings on: the bucket's own, written again.
	input := awscdk.Stack_Of(c).ToJsonString(map[string]any{
		"Bucket": bucket.BucketName(),
		"PublicAccessBlockConfiguration": map[string]any{
			"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true,
		},
	}, nil)
	schedule := awsscheduler.NewCfnSchedule(c, jsii.String("Schedule"), &awsscheduler.CfnScheduleProps{
		Description:        jsii.String("bucketguard canary: one harmless watched change, timed on its arrival"),
		ScheduleExpression: jsii.String(p.Schedule),
		FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:         jsii.String("arn:aws:scheduler:::aws-sdk:s3:putPublicAccessBlock"),
			RoleArn:     role.RoleArn(),
			Input:       input,
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{MaximumRetryAttempts: jsii.Number(0)},
		},
	})
	return &Canary{Construct: c, Bucket: bucket, Role: role, Schedule: schedule}
}
