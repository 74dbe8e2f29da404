package main

import (
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/remediations/contract"
)

// CoverageCheckProps configures the admin stack's coverage check.
type CoverageCheckProps struct {
	// AssetDir holds the function's bootstrap (make build: dist/coverage).
	AssetDir string
	Org      OrgSettings
	// Heartbeats is the table of the latest heartbeat per account and
	// region; nil reads none (coverage is then the stacks' status).
	Heartbeats awsdynamodb.ITable
	OpsEmails  []string
	// Schedule is how often the check runs: rate(6 hours).
	Schedule string
}

// CoverageCheck is the admin stack's scheduled check: every account and
// region of the organization against the StackSet's instances and the
// latest heartbeats (the same join as bucketguard coverage), the
// organization's operations topic told of each account-region not covered
// (no stack, a stack not current, no heartbeat within a day and a bit), and
// an alarm on the count; the alarm also fires when the check itself stops
// running (missing data breaches).
type CoverageCheck struct {
	constructs.Construct
	Function awslambda.Function
	Topic    awssns.Topic
	Alarm    awscloudwatch.Alarm
}

// Five hours cover a 1,000-account organization's reads many times over.
const coverageTimeout = 15

// NewCoverageCheck builds the function, its schedule, its topic and alarm.
func NewCoverageCheck(scope constructs.Construct, id string, p *CoverageCheckProps) *CoverageCheck {
	c := constructs.NewConstruct(scope, &id)
	// Unencrypted, TLS only: CloudWatch alarms cannot publish to a topic
	// under the AWS managed key, and the messages name accounts and
	// regions, not data.
	topic := awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String("bucketguard organization coverage"), EnforceSSL: jsii.Bool(true)})
	suppress(topic, "AwsSolutions-SNS2", "CloudWatch alarms cannot publish to a topic under the AWS managed key; it carries account ids and regions only")
	for _, e := range p.OpsEmails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	logs := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{Retention: awslogs.RetentionDays_THREE_MONTHS})
	env := map[string]*string{
		"BUCKETGUARD_STACKSET":         jsii.String(StackSetName),
		"BUCKETGUARD_COVERAGE_REGIONS": jsii.String(strings.Join(p.Org.Regions, ",")),
		"BUCKETGUARD_CALL_AS":          jsii.String(p.Org.CallAs),
		"BUCKETGUARD_OPS_TOPIC_ARN":    topic.TopicArn(),
	}
	if p.Heartbeats != nil {
		env["BUCKETGUARD_HEARTBEAT_TABLE"] = p.Heartbeats.TableName()
	}
	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String("bucketguard: every account and region of the organization covered, or the operations topic told"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Clean(p.AssetDir)), nil),
		MemorySize:   jsii.Number(256),
		Timeout:      awscdk.Duration_Minutes(jsii.Number(coverageTimeout)),
		LogGroup:     logs,
		Environment:  &env,
	})
	// Reads of the organization and the StackSet: AWS Organizations'
	// listing actions support no resource; ListStackInstances is scoped to
	// the StackSet.
	// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("ReadTheOrganization"),
		Actions: jsii.Strings("organizations:ListAccounts", "organizations:DescribeOrganization"), Resources: jsii.Strings("*")}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("ReadTheStackSet"),
		Actions: jsii.Strings("cloudformation:ListStackInstances"),
		Resources: jsii.Strings(*awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stackset/"+StackSetName+":*"), nil),
			*awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:cloudformation:*:*:stackset-target/"+StackSetName+":*"), nil))}))
	if p.Heartbeats != nil {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("ReadHeartbeats"),
			Actions: jsii.Strings("dynamodb:BatchGetItem"), Resources: &[]*string{p.Heartbeats.TableArn()}}))
	}
	topic.GrantPublish(fn)
	suppress(fn.Role(), "AwsSolutions-IAM5", "AWS Organizations' ListAccounts and DescribeOrganization support no resource; ListStackInstances is granted on bucketguard's StackSet and its targets")
	suppress(fn.Role(), "AwsSolutions-IAM4", "the CDK's basic execution role policy: writing the function's own logs")
	awsevents.NewRule(c, jsii.String("Schedule"), &awsevents.RuleProps{
		Description: jsii.String("bucketguard: the organization's coverage check"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(p.Schedule)),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{RetryAttempts: jsii.Number(2)})},
	})
	awslogs.NewMetricFilter(c, jsii.String("Uncovered"), &awslogs.MetricFilterProps{
		LogGroup: logs, FilterPattern: awslogs.FilterPattern_Literal(jsii.String(contract.CoverageLines())),
		MetricNamespace: jsii.String(Namespace), MetricName: jsii.String("Uncovered"),
		MetricValue: jsii.String(contract.Selector(contract.FieldUncovered)),
	})
	uncovered := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(Namespace), MetricName: jsii.String("Uncovered"),
		Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Hours(jsii.Number(6))})
	alarm := awscloudwatch.NewAlarm(c, jsii.String("Alarm"), &awscloudwatch.AlarmProps{
		Metric: uncovered, Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
		AlarmDescription: jsii.String("bucketguard: an account and region of the organization is not covered (no stack, a stack not current, or no heartbeat " +
			"within a day and a bit), or the coverage check stopped running; the topic has the list, bucketguard coverage the detail"),
	})
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
	return &CoverageCheck{Construct: c, Function: fn, Topic: topic, Alarm: alarm}
}
