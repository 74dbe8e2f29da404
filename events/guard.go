package events

// Part is the part of bucketguard a guarded call can switch off: the trail
// that feeds it, its rules, functions, roles, topics, queues or key, or
// what watches it: its alarms and the log groups their metrics come from.
type Part string

// The parts a guarded call can touch. A trail is any trail of the account
// (every trail call is a risk); the others are bucketguard's own, as
// deployed.
const (
	TrailPart    Part = "trail"
	RulePart     Part = "rule"
	FunctionPart Part = "function"
	RolePart     Part = "role"
	TopicPart    Part = "topic"
	QueuePart    Part = "queue"
	KeyPart      Part = "key"
	AlarmPart    Part = "alarm"
	LogsPart     Part = "logs"
)

// Watches reports whether the part watches bucketguard (its alarms, and the
// log groups their metrics are counted from) rather than feeds or runs it:
// a call on it misses no S3 event, so it is told but starts no sweep.
func (p Part) Watches() bool { return p == AlarmPart || p == LogsPart }

// The eventSource of each service a guarded call belongs to.
// https://docs.aws.amazon.com/eventbridge/latest/ref/events.html
const (
	CloudTrailSource  = "cloudtrail.amazonaws.com"
	EventBridgeSource = "events.amazonaws.com"
	LambdaSource      = "lambda.amazonaws.com"
	IAMSource         = "iam.amazonaws.com"
	SNSSource         = "sns.amazonaws.com"
	SQSSource         = "sqs.amazonaws.com"
	KMSSource         = "kms.amazonaws.com"
	CloudWatchSource  = "monitoring.amazonaws.com"
	LogsSource        = "logs.amazonaws.com"
)

// The CloudTrail event names of the calls that can blind or disarm
// bucketguard. Lambda logs most of its calls with the API version in the
// name; the spellings below are those of the Lambda Developer Guide's list
// of management events.
// https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html
const (
	StopLogging               Name = "StopLogging"
	DeleteTrail               Name = "DeleteTrail"
	UpdateTrail               Name = "UpdateTrail"
	PutEventSelectors         Name = "PutEventSelectors"
	PutAdvancedEventSelectors Name = "PutAdvancedEventSelectors"

	DisableRule   Name = "DisableRule"
	DeleteRule    Name = "DeleteRule"
	PutRule       Name = "PutRule"
	RemoveTargets Name = "RemoveTargets"
	PutTargets    Name = "PutTargets"

	DeleteFunction              Name = "DeleteFunction20150331"
	UpdateFunctionConfiguration Name = "UpdateFunctionConfiguration20150331v2"
	UpdateFunctionCode          Name = "UpdateFunctionCode20150331v2"
	PutFunctionConcurrency      Name = "PutFunctionConcurrency20171031"
	DeleteFunctionConcurrency   Name = "DeleteFunctionConcurrency20171031"
	RemovePermission            Name = "RemovePermission20150331v2"

	AttachRolePolicy           Name = "AttachRolePolicy"
	DetachRolePolicy           Name = "DetachRolePolicy"
	PutRolePolicy              Name = "PutRolePolicy"
	DeleteRolePolicy           Name = "DeleteRolePolicy"
	PutRolePermissionsBoundary Name = "PutRolePermissionsBoundary"
	UpdateAssumeRolePolicy     Name = "UpdateAssumeRolePolicy"
	DeleteRole                 Name = "DeleteRole"

	SetTopicAttributes        Name = "SetTopicAttributes"
	DeleteTopic               Name = "DeleteTopic"
	Unsubscribe               Name = "Unsubscribe"
	SetSubscriptionAttributes Name = "SetSubscriptionAttributes"

	SetQueueAttributes Name = "SetQueueAttributes"
	DeleteQueue        Name = "DeleteQueue"
	PurgeQueue         Name = "PurgeQueue"

	DisableKey          Name = "DisableKey"
	ScheduleKeyDeletion Name = "ScheduleKeyDeletion"
	PutKeyPolicy        Name = "PutKeyPolicy"

	DeleteAlarms        Name = "DeleteAlarms"
	DisableAlarmActions Name = "DisableAlarmActions"
	PutMetricAlarm      Name = "PutMetricAlarm"
	SetAlarmState       Name = "SetAlarmState"

	DeleteLogGroup     Name = "DeleteLogGroup"
	DeleteMetricFilter Name = "DeleteMetricFilter"
	PutMetricFilter    Name = "PutMetricFilter"
	AssociateKmsKey    Name = "AssociateKmsKey"
)

// Guard describes one guarded call: the name CloudTrail writes, its
// eventSource, the IAM action behind it, the part it touches, the field of
// the record that names that part, and why it matters.
type Guard struct {
	Name   Name
	Source string
	API    string
	Part   Part
	// Field is where the record names the part: a requestParameters field
	// (a string, or a list of strings such as DeleteAlarms' alarmNames),
	// or "resources.ARN"; "" for a trail call, which is guarded whatever
	// trail it names.
	Field string
	Why   string
}

// guarded is the one list of calls that can switch bucketguard off. Order is
// the order of the docs table (docs/selfdefense.md).
var guarded = []Guard{
	{StopLogging, CloudTrailSource, "cloudtrail:StopLogging", TrailPart, "", "the trail records nothing more: no S3 change reaches the rule"},
	{DeleteTrail, CloudTrailSource, "cloudtrail:DeleteTrail", TrailPart, "", "the trail is gone: no S3 change reaches the rule"},
	{UpdateTrail, CloudTrailSource, "cloudtrail:UpdateTrail", TrailPart, "", "the trail may now log one region only, or elsewhere"},
	{PutEventSelectors, CloudTrailSource, "cloudtrail:PutEventSelectors", TrailPart, "", "management write events may no longer be logged"},
	{PutAdvancedEventSelectors, CloudTrailSource, "cloudtrail:PutAdvancedEventSelectors", TrailPart, "", "management write events may no longer be logged"},

	{DisableRule, EventBridgeSource, "events:DisableRule", RulePart, "name", "a disabled rule matches nothing"},
	{DeleteRule, EventBridgeSource, "events:DeleteRule", RulePart, "name", "the rule is gone"},
	{PutRule, EventBridgeSource, "events:PutRule", RulePart, "name", "the rule's pattern or state may have been replaced"},
	{RemoveTargets, EventBridgeSource, "events:RemoveTargets", RulePart, "rule", "the rule matches but delivers nowhere"},
	{PutTargets, EventBridgeSource, "events:PutTargets", RulePart, "rule", "a target may have been replaced or its input rewritten"},

	{DeleteFunction, LambdaSource, "lambda:DeleteFunction", FunctionPart, "functionName", "the function is gone"},
	{UpdateFunctionConfiguration, LambdaSource, "lambda:UpdateFunctionConfiguration", FunctionPart, "functionName", "its settings may have changed (BUCKETGUARD_MODE=notify, another role)"},
	{UpdateFunctionCode, LambdaSource, "lambda:UpdateFunctionCode", FunctionPart, "functionName", "the code is no longer bucketguard's"},
	{PutFunctionConcurrency, LambdaSource, "lambda:PutFunctionConcurrency", FunctionPart, "functionName", "reserved concurrency 0 throttles every invocation"},
	{DeleteFunctionConcurrency, LambdaSource, "lambda:DeleteFunctionConcurrency", FunctionPart, "functionName", "the reservation is gone: the function competes for the account's pool"},
	{RemovePermission, LambdaSource, "lambda:RemovePermission", FunctionPart, "functionName", "EventBridge may no longer be allowed to invoke it"},

	{AttachRolePolicy, IAMSource, "iam:AttachRolePolicy", RolePart, "roleName", "a managed policy may deny the role its calls"},
	{DetachRolePolicy, IAMSource, "iam:DetachRolePolicy", RolePart, "roleName", "the role may have lost its permissions"},
	{PutRolePolicy, IAMSource, "iam:PutRolePolicy", RolePart, "roleName", "an inline policy may deny the role its calls"},
	{DeleteRolePolicy, IAMSource, "iam:DeleteRolePolicy", RolePart, "roleName", "the role may have lost its permissions"},
	{PutRolePermissionsBoundary, IAMSource, "iam:PutRolePermissionsBoundary", RolePart, "roleName", "a boundary may cap the role below its calls"},
	{UpdateAssumeRolePolicy, IAMSource, "iam:UpdateAssumeRolePolicy", RolePart, "roleName", "Lambda may no longer be able to assume the role"},
	{DeleteRole, IAMSource, "iam:DeleteRole", RolePart, "roleName", "the role is gone"},

	{SetTopicAttributes, SNSSource, "sns:SetTopicAttributes", TopicPart, "topicArn", "the topic's policy or key may refuse the alerts"},
	{DeleteTopic, SNSSource, "sns:DeleteTopic", TopicPart, "topicArn", "the topic is gone: no alert is delivered"},
	{Unsubscribe, SNSSource, "sns:Unsubscribe", TopicPart, "subscriptionArn", "a recipient no longer gets the alerts"},
	{SetSubscriptionAttributes, SNSSource, "sns:SetSubscriptionAttributes", TopicPart, "subscriptionArn", "a filter policy may now drop a recipient's alerts"},

	{SetQueueAttributes, SQSSource, "sqs:SetQueueAttributes", QueuePart, "queueUrl", "the queue's policy may refuse failed events or alerts"},
	{DeleteQueue, SQSSource, "sqs:DeleteQueue", QueuePart, "queueUrl", "failed events and undelivered alerts have nowhere to go"},
	{PurgeQueue, SQSSource, "sqs:PurgeQueue", QueuePart, "queueUrl", "failed events or undelivered alerts were thrown away"},

	{DisableKey, KMSSource, "kms:DisableKey", KeyPart, "resources.ARN", "topics and queues encrypted with the key stop working"},
	{ScheduleKeyDeletion, KMSSource, "kms:ScheduleKeyDeletion", KeyPart, "resources.ARN", "the key is unusable while deletion is pending, then gone"},
	{PutKeyPolicy, KMSSource, "kms:PutKeyPolicy", KeyPart, "resources.ARN", "the key policy may refuse SNS, SQS or EventBridge"},

	{DeleteAlarms, CloudWatchSource, "cloudwatch:DeleteAlarms", AlarmPart, "alarmNames", "the alarm is gone: a failure, a missing canary or a fight is no longer told"},
	{DisableAlarmActions, CloudWatchSource, "cloudwatch:DisableAlarmActions", AlarmPart, "alarmNames", "the alarm still changes state but tells no one"},
	{PutMetricAlarm, CloudWatchSource, "cloudwatch:PutMetricAlarm", AlarmPart, "alarmName", "the alarm may have been replaced: another threshold, metric or no action"},
	{SetAlarmState, CloudWatchSource, "cloudwatch:SetAlarmState", AlarmPart, "alarmName", "an alarm in ALARM is set back to OK until its next evaluation: a breach told as over"},

	{DeleteLogGroup, LogsSource, "logs:DeleteLogGroup", LogsPart, "logGroupName", "the function's log lines, and the metrics counted from them, are gone"},
	{DeleteMetricFilter, LogsSource, "logs:DeleteMetricFilter", LogsPart, "logGroupName", "a metric the alarms watch (canary, fights, unjournaled) is no longer counted"},
	{PutMetricFilter, LogsSource, "logs:PutMetricFilter", LogsPart, "logGroupName", "a metric filter may have been replaced by one that counts nothing"},
	{AssociateKmsKey, LogsSource, "logs:AssociateKmsKey", LogsPart, "logGroupName", "a key CloudWatch Logs cannot use makes the function's log lines, and their metrics, fail"},
}

// Guarded returns a copy of the guarded calls, in the docs order.
func Guarded() []Guard {
	out := make([]Guard, len(guarded))
	copy(out, guarded)
	return out
}

// Parts returns the parts, in the docs order.
func Parts() []Part {
	return []Part{TrailPart, RulePart, FunctionPart, RolePart, TopicPart, QueuePart, KeyPart, AlarmPart, LogsPart}
}

// GuardedNames returns the names of the guarded calls that touch part, in
// the docs order, ready for an EventBridge pattern's detail.eventName list.
func GuardedNames(part Part) []string {
	var out []string
	for _, g := range guarded {
		if g.Part == part {
			out = append(out, string(g.Name))
		}
	}
	return out
}

// GuardedSources returns the eventSource of the calls that touch part (one
// service per part).
func GuardedSources(part Part) []string {
	var out []string
	for _, g := range guarded {
		if g.Part == part && !contains(out, g.Source) {
			out = append(out, g.Source)
		}
	}
	return out
}

// GuardedByField returns the names of the calls that touch part and name it
// in field.
func GuardedByField(part Part, field string) []string {
	var out []string
	for _, g := range guarded {
		if g.Part == part && g.Field == field {
			out = append(out, string(g.Name))
		}
	}
	return out
}

// LookupGuard returns the guard of a name and whether it is guarded.
func LookupGuard(n Name) (Guard, bool) {
	for _, g := range guarded {
		if g.Name == n {
			return g, true
		}
	}
	return Guard{}, false
}

// IsGuarded reports whether n is on the list of guarded calls.
func (n Name) IsGuarded() bool {
	_, ok := LookupGuard(n)
	return ok
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
