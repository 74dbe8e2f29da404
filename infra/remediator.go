package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/op"
)

// RemediatorProps configures a remediation function.
type RemediatorProps struct {
	// AssetDir holds the function's bootstrap (make build: dist/<function>).
	AssetDir string
	// Engine is the configuration; the topic, the role and the queue are
	// filled in with this stack's resources.
	Engine           config.Config
	Topic            awssns.ITopic
	Key              awskms.IKey
	Undelivered      awssqs.IQueue
	Ledger           awsdynamodb.ITable
	LogRetentionDays int
	MemoryMB         float64
	Timeout          awscdk.Duration
	// ExtraActions are account-level actions (on "*") granted on top of the
	// engine's: the sweep's s3:ListAllMyBuckets.
	ExtraActions []string
	// Environment adds function-specific variables.
	Environment map[string]string
	Description string
}

// Remediator is one Lambda function running the engine: its role, its log
// group and the queue where failed asynchronous invocations land.
type Remediator struct {
	constructs.Construct
	Role     awsiam.Role
	Function awslambda.Function
	LogGroup awslogs.LogGroup
	Failures awssqs.Queue
}

// NewRemediator builds the function with exactly the permissions the engine
// uses: the bucket-configuration actions on bucket ARNs of this account only,
// the account-level Block Public Access actions, publishing to the topic and
// the fallback queue, and writing its own logs.
func NewRemediator(scope constructs.Construct, id string, p *RemediatorProps) *Remediator {
	c := constructs.NewConstruct(scope, &id)
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("bucketguard " + id + ": its own changes are skipped by the rule and the code"),
	})
	bucketStmt := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("BucketConfiguration"),
		Actions:   jsii.Strings(p.Engine.BucketActions()...),
		Resources: jsii.Strings("arn:" + *awscdk.Aws_PARTITION() + ":s3:::*"),
		// Only this account's buckets: never a same-named bucket elsewhere.
		Conditions: &map[string]any{"StringEquals": map[string]any{"s3:ResourceAccount": awscdk.Aws_ACCOUNT_ID()}},
	})
	role.AddToPolicy(bucketStmt)
	account := append(p.Engine.AccountActions(), p.ExtraActions...)
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AccountLevel"),
		Actions:   jsii.Strings(account...),
		Resources: jsii.Strings("*"),
	}))
	// Publishing to the encrypted topic and queue needs exactly these.
	alertOps := []op.Operation{op.Publish, op.SendMessage, op.PutItem, op.DeleteItem}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("PublishAlerts"), Actions: jsii.Strings(op.Actions(alertOps, op.Topic)...), Resources: &[]*string{p.Topic.TopicArn()}}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("KeepUndeliveredAlerts"), Actions: jsii.Strings(op.Actions(alertOps, op.Queue)...), Resources: &[]*string{p.Undelivered.QueueArn()}}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AlertLedger"), Actions: jsii.Strings(op.Actions(alertOps, op.Table)...), Resources: &[]*string{p.Ledger.TableArn()}}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("EncryptAlerts"), Actions: jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"), Resources: &[]*string{p.Key.KeyArn()}}))

	logs := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention: retention(p.LogRetentionDays),
	})
	logs.GrantWrite(role)
	failures := encryptedQueue(c, "Failures", nil)

	cfg := p.Engine
	cfg.TopicARN = *p.Topic.TopicArn()
	cfg.SelfRoleARN = *role.RoleArn()
	cfg.FallbackQueueURL = *p.Undelivered.QueueUrl()
	cfg.LedgerTable = *p.Ledger.TableName()
	env := map[string]*string{}
	for k, v := range cfg.Environ() {
		env[k] = jsii.String(v)
	}
	for k, v := range p.Environment {
		env[k] = jsii.String(v)
	}
	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String(p.Description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(p.AssetDir), nil),
		MemorySize:   jsii.Number(p.MemoryMB),
		Timeout:      p.Timeout,
		Role:         role,
		LogGroup:     logs,
		Environment:  &env,
		// Asynchronous invocations: two retries, an hour at most, then the
		// failures queue (with the event and the error), watched by an alarm.
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
		OnFailure:     awslambdadestinations.NewSqsDestination(failures),
	})
	suppressIAM5(role, p.Engine)
	return &Remediator{Construct: c, Role: role, Function: fn, LogGroup: logs, Failures: failures}
}

// retention maps a number of days to the CDK's enum; the values are those
// CloudWatch Logs accepts, which ParseSettings has checked.
func retention(days int) awslogs.RetentionDays {
	names := []awslogs.RetentionDays{awslogs.RetentionDays_ONE_DAY, awslogs.RetentionDays_THREE_DAYS, awslogs.RetentionDays_FIVE_DAYS,
		awslogs.RetentionDays_ONE_WEEK, awslogs.RetentionDays_TWO_WEEKS, awslogs.RetentionDays_ONE_MONTH, awslogs.RetentionDays_TWO_MONTHS,
		awslogs.RetentionDays_THREE_MONTHS, awslogs.RetentionDays_FOUR_MONTHS, awslogs.RetentionDays_FIVE_MONTHS, awslogs.RetentionDays_SIX_MONTHS,
		awslogs.RetentionDays_ONE_YEAR, awslogs.RetentionDays_THIRTEEN_MONTHS, awslogs.RetentionDays_EIGHTEEN_MONTHS, awslogs.RetentionDays_TWO_YEARS,
		awslogs.RetentionDays_THREE_YEARS, awslogs.RetentionDays_FIVE_YEARS, awslogs.RetentionDays_SIX_YEARS, awslogs.RetentionDays_SEVEN_YEARS,
		awslogs.RetentionDays_EIGHT_YEARS, awslogs.RetentionDays_NINE_YEARS, awslogs.RetentionDays_TEN_YEARS}
	for i, d := range retentionDays {
		if d == days {
			return names[i]
		}
	}
	return awslogs.RetentionDays_THREE_MONTHS
}
