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
	// Code, when set, is the function's code instead of AssetDir: the
	// member template's functions come from an asset bucket in each region.
	Code awslambda.Code
	// Engine is the configuration; the topic, the role and the queue are
	// filled in with this stack's resources.
	Engine config.Config
	Topic  awssns.ITopic
	// Key is the customer managed key of the topics and queue; nil when
	// there is none (the member template: the alert topic uses the AWS
	// managed key, whose key policy lets the account's principals use it
	// through SNS).
	Key         awskms.IKey
	Undelivered awssqs.IQueue
	Ledger      awsdynamodb.ITable
	// ChatTopic, when set, gets each alert as a chat notification.
	ChatTopic        awssns.ITopic
	LogRetentionDays int
	MemoryMB         float64
	Timeout          awscdk.Duration
	// ExtraActions are account-level actions (on "*") granted on top of the
	// engine's: the sweep's s3:ListAllMyBuckets.
	ExtraActions []string
	// Environment adds function-specific variables.
	Environment map[string]string
	// ReservedConcurrency, when above 0, reserves (and caps) the
	// function's concurrency.
	ReservedConcurrency int
	Description         string
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
	// The reads: the engine's posture and read-backs, on this account's
	// buckets and access points, and the account-level reads on "*".
	for _, st := range s3Statements(p.Engine, "Read", p.Engine.ReadActions, p.ExtraActions, nil) {
		role.AddToPolicy(st)
	}
	// Publishing to the encrypted topic and queue needs exactly these.
	alertOps := []op.Operation{op.Publish, op.SendMessage, op.GetItem, op.PutItem, op.UpdateItem, op.DeleteItem}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("PublishAlerts"), Actions: jsii.Strings(op.Actions(alertOps, op.Topic)...), Resources: &[]*string{p.Topic.TopicArn()}}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("KeepUndeliveredAlerts"), Actions: jsii.Strings(op.Actions(alertOps, op.Queue)...), Resources: &[]*string{p.Undelivered.QueueArn()}}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AlertLedger"), Actions: jsii.Strings(op.Actions(alertOps, op.Table)...), Resources: &[]*string{p.Ledger.TableArn()}}))
	if p.Key != nil {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("EncryptAlerts"), Actions: jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"), Resources: &[]*string{p.Key.KeyArn()}}))
	}

	if p.ChatTopic != nil {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("PublishChat"), Actions: jsii.Strings(op.Actions(alertOps, op.Topic)...), Resources: &[]*string{p.ChatTopic.TopicArn()}}))
	}
	// Security Hub, when on: importing to the account's own product, and
	// the workflow updates (which IAM scopes to no resource). Nothing is
	// written on the buckets to keep track of findings.
	// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecurityhub.html
	if reports := p.Engine.ReportOperations(); len(reports) > 0 {
		product := awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:product/${AWS::AccountId}/default"), nil)
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ImportFindings"), Actions: jsii.Strings(op.Actions(reports, op.Product)...), Resources: &[]*string{product}}))
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("UpdateFindings"), Actions: jsii.Strings(op.Actions(reports, op.Findings)...), Resources: jsii.Strings("*")}))
	}

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
	if p.ChatTopic != nil {
		cfg.ChatTopicARN = *p.ChatTopic.TopicArn()
	}
	env := map[string]*string{}
	for k, v := range cfg.Environ() {
		env[k] = jsii.String(v)
	}
	for k, v := range p.Environment {
		env[k] = jsii.String(v)
	}
	code := p.Code
	if code == nil {
		code = awslambda.Code_FromAsset(jsii.String(p.AssetDir), nil)
	}
	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String(p.Description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         code,
		MemorySize:   jsii.Number(p.MemoryMB),
		Timeout:      p.Timeout,
		Role:         role,
		LogGroup:     logs,
		Environment:  &env,
		// Asynchronous invocations: two retries, then the failures queue
		// (with the event and the error), watched by an alarm. Events
		// throttled by the reserved concurrency wait in the queue for up to
		// six hours (Lambda's maximum) before they land there.
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
		OnFailure:     awslambdadestinations.NewSqsDestination(failures),
	})
	if p.ReservedConcurrency > 0 {
		fn.Node().DefaultChild().(awslambda.CfnFunction).SetReservedConcurrentExecutions(jsii.Number(p.ReservedConcurrency))
	}
	// The writes, in a policy of their own, each tied to this function: the
	// credentials must come from the function itself (Lambda adds
	// lambda:SourceFunctionArn to calls made from its execution
	// environment), so the role lent to anything else (a function created
	// with iam:PassRole, an AssumeRole) can read but change nothing.
	// In the role's default policy the function's ARN would make the
	// function depend on itself.
	// https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html
	fromFunction := map[string]any{"ArnLike": map[string]any{"lambda:SourceFunctionArn": []any{fn.FunctionArn(), *fn.FunctionArn() + ":*"}}}
	writes := awsiam.NewPolicy(c, jsii.String("Writes"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{role},
		Statements: ptrTo(s3Statements(p.Engine, "Fix", p.Engine.WriteActions, nil, fromFunction)),
	})
	suppressIAM5(role, p.Engine)
	suppressIAM5(writes, p.Engine)
	return &Remediator{Construct: c, Role: role, Function: fn, LogGroup: logs, Failures: failures}
}

func ptrTo[T any](v T) *T { return &v }

// s3Statements grants actions (ReadActions or WriteActions of the engine's
// configuration) on each kind of S3 resource of this account: its buckets
// (s3:ResourceAccount), its access points, Object Lambda access points and
// Multi-Region Access Points, and "*" for the account-level actions that
// support no resource (plus extra, there). cond, when set, is added to each.
func s3Statements(cfg config.Config, sid string, actions func(op.Resource) []string, extra []string, cond map[string]any) []awsiam.PolicyStatement {
	part, region, account := *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION(), *awscdk.Aws_ACCOUNT_ID()
	kinds := []struct {
		on       op.Resource
		name     string
		resource string
	}{
		{op.Bucket, "Buckets", "arn:" + part + ":s3:::*"},
		{op.AccessPointARN, "AccessPoints", "arn:" + part + ":s3:" + region + ":" + account + ":accesspoint/*"},
		{op.ObjectLambdaARN, "ObjectLambdaAccessPoints", "arn:" + part + ":s3-object-lambda:" + region + ":" + account + ":accesspoint/*"},
		{op.MultiRegionARN, "MultiRegionAccessPoints", "arn:" + part + ":s3::" + account + ":accesspoint/*"},
		{op.Account, "Account", "*"},
	}
	var out []awsiam.PolicyStatement
	for _, k := range kinds {
		acts := actions(k.on)
		if k.on == op.Account {
			acts = append(acts, extra...)
		}
		if len(acts) == 0 {
			continue
		}
		conds := map[string]any{}
		for op, v := range cond {
			conds[op] = v
		}
		if k.on == op.Bucket {
			// Only this account's buckets: never a same-named bucket elsewhere.
			conds["StringEquals"] = map[string]any{"s3:ResourceAccount": awscdk.Aws_ACCOUNT_ID()}
		}
		props := &awsiam.PolicyStatementProps{Sid: jsii.String(sid + k.name), Actions: jsii.Strings(acts...), Resources: jsii.Strings(k.resource)}
		if len(conds) > 0 {
			props.Conditions = &conds
		}
		out = append(out, awsiam.NewPolicyStatement(props))
	}
	return out
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
