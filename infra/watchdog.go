package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/events"
)

// Own names bucketguard's own resources as deployed: CloudFormation tokens
// in the stack, literal names in tests. Each is what a caller may write in
// the call's request: rule, function, role and queue names, topic and key
// ARNs.
type Own struct {
	Rules     []string
	Functions []string
	Roles     []string
	Topics    []string
	Queues    []string
	Keys      []string
	// AlarmPrefix begins the name of every alarm of bucketguard's
	// (AlarmNamePrefix); empty guards no alarm.
	AlarmPrefix string
	// LogGroups are the functions' log groups, the alarms' metrics counted
	// from them.
	LogGroups []string
}

// AlarmNamePrefix begins the names of the stack's alarms, so that one
// prefix in a watchdog pattern names them all, those added later too.
func AlarmNamePrefix(prefix string) string { return prefix + "-alarm-" }

// WatchdogDetail is the detail part of the pattern of the watchdog rule for
// one part: the part's guarded names (the list in events, never retyped)
// from its one eventSource, successful calls only (no errorCode), and, but
// for a trail (any trail feeds the rule), only calls naming one of
// bucketguard's own resources. A Lambda caller may name a function by name,
// ARN or partial ARN, all ending in the name: a wildcard "*name" matches
// each. An SQS call names its queue by URL, ending in "/name". A
// subscription's ARN is its topic's ARN and ":id". A KMS call names its key
// by id, ARN or alias; CloudTrail's resources list always has the key's ARN.
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// https://docs.aws.amazon.com/kms/latest/developerguide/ct-schedule-key-deletion.html
func WatchdogDetail(part events.Part, own Own) map[string]any {
	detail := map[string]any{
		"eventSource": toAny(events.GuardedSources(part)),
		"errorCode":   []any{map[string]any{"exists": false}},
	}
	named := func(field string, values []any) map[string]any {
		return map[string]any{
			"eventName":         toAny(events.GuardedByField(part, field)),
			"requestParameters": map[string]any{field: values},
		}
	}
	wildcards := func(prefix string, names []string) []any {
		var out []any
		for _, n := range names {
			out = append(out, map[string]any{"wildcard": prefix + n})
		}
		return out
	}
	switch part {
	case events.TrailPart:
		detail["eventName"] = toAny(events.GuardedNames(part))
	case events.RulePart:
		detail["$or"] = []any{named("name", toAny(own.Rules)), named("rule", toAny(own.Rules))}
	case events.FunctionPart:
		// By name, ARN or partial ARN, with or without a qualifier
		// (name:alias, name:$LATEST).
		fns := wildcards("*", own.Functions)
		for _, f := range own.Functions {
			fns = append(fns, map[string]any{"wildcard": "*" + f + ":*"})
		}
		for k, v := range named("functionName", fns) {
			detail[k] = v
		}
	case events.RolePart:
		// IAM does not tell role names apart by case, and takes a name in
		// any case: a PutRolePolicy on "BUCKETGUARD-REMEDIATOR" changes our
		// role.
		var roles []any
		for _, r := range own.Roles {
			roles = append(roles, map[string]any{"equals-ignore-case": r})
		}
		for k, v := range named("roleName", roles) {
			detail[k] = v
		}
	case events.TopicPart:
		var subs []any
		for _, t := range own.Topics {
			subs = append(subs, map[string]any{"prefix": t + ":"})
		}
		detail["$or"] = []any{named("topicArn", toAny(own.Topics)), named("subscriptionArn", subs)}
	case events.QueuePart:
		for k, v := range named("queueUrl", wildcards("*/", own.Queues)) {
			detail[k] = v
		}
	case events.KeyPart:
		detail["eventName"] = toAny(events.GuardedNames(part))
		detail["resources"] = map[string]any{"ARN": toAny(own.Keys)}
	case events.AlarmPart:
		// DeleteAlarms and DisableAlarmActions name a list: the pattern
		// matches when any name in it has the prefix.
		byPrefix := []any{map[string]any{"prefix": own.AlarmPrefix}}
		detail["$or"] = []any{named("alarmNames", byPrefix), named("alarmName", byPrefix)}
	case events.LogsPart:
		for k, v := range named("logGroupName", toAny(own.LogGroups)) {
			detail[k] = v
		}
	}
	return detail
}

// WatchdogPattern is the whole pattern of a watchdog rule.
func WatchdogPattern(part events.Part, own Own) map[string]any {
	return map[string]any{
		"source":      []any{"aws." + strings.TrimSuffix(events.GuardedSources(part)[0], ".amazonaws.com")},
		"detail-type": []any{events.DetailType},
		"detail":      WatchdogDetail(part, own),
	}
}

// watchdogRule is one rule of the watchdog: the part it guards, its id in
// the construct and the end of its physical name.
type watchdogRule struct {
	id   string
	part events.Part
	name string
}

// watchdogRules are the rules, one per part, and a second one for rules:
// "rule" guards every rule of bucketguard but itself, "rule-guard" guards
// "rule". A rule cannot tell its own removal (its target is gone, or it
// is disabled, before the event arrives), so each is guarded by another.
var watchdogRules = []watchdogRule{
	{"Trail", events.TrailPart, "trail"},
	{"Rule", events.RulePart, "rule"},
	{"RuleGuard", events.RulePart, "rule-guard"},
	{"Function", events.FunctionPart, "function"},
	{"Role", events.RolePart, "role"},
	{"Topic", events.TopicPart, "topic"},
	{"Queue", events.QueuePart, "queue"},
	{"Key", events.KeyPart, "key"},
	{"Alarm", events.AlarmPart, "alarm"},
	{"Logs", events.LogsPart, "logs"},
}

// guards reports whether the rule has something to guard: a key of
// bucketguard's own, alarms named under a prefix, log groups.
func (r watchdogRule) guards(own Own) bool {
	switch r.part {
	case events.KeyPart:
		return len(own.Keys) > 0
	case events.AlarmPart:
		return own.AlarmPrefix != ""
	case events.LogsPart:
		return len(own.LogGroups) > 0
	}
	return true
}

// WatchdogRuleName is the physical name of a watchdog rule. The rules are
// named, against the habit of this app, because each pattern names other
// watchdog rules: by reference, two rules naming each other would be a
// circular dependency in CloudFormation.
func WatchdogRuleName(stackName, name string) string {
	return stackName + "-watchdog-" + name
}

// WatchdogProps says what the watchdog guards and whom it tells.
type WatchdogProps struct {
	// Own are bucketguard's resources; Own.Rules lists the rules outside
	// the watchdog (its own rules are added).
	Own Own
	// OpsTopic receives one line per guarded call, straight from
	// EventBridge: no function of bucketguard's stands in the way.
	OpsTopic awssns.ITopic
	// DeadLetter keeps what EventBridge could not deliver to a target.
	DeadLetter awssqs.IQueue
	// NamePrefix begins the rules' physical names; empty is the stack's
	// name. A StackSet's stacks are named StackSet-<name>-<UUID>, too long
	// for a rule name (64 characters) with the rule's own part.
	// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
	NamePrefix string
	// Remediate, when set, gets each guarded call too (the whole event):
	// it starts a sweep of the account at once, since events may have been
	// missed while bucketguard was blind or disarmed. A call on what
	// watches bucketguard (alarms, log groups) misses no event: only the
	// operations topic is told.
	Remediate awslambda.IFunction
}

// Watchdog is the set of EventBridge rules that tell the operations topic
// when bucketguard is blinded or disarmed.
type Watchdog struct {
	constructs.Construct
	// Rules are the watchdog's rules, in the order of watchdogRules (without
	// those with nothing to guard: no key of bucketguard's own, say).
	Rules []awsevents.Rule
}

// NewWatchdog builds one rule per part of bucketguard, each delivering to
// the operations topic with an input transformer (who called what on which
// part, where, when and from where, and what the request said) and, when
// given, to the remediate function, which starts a sweep.
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
func NewWatchdog(scope constructs.Construct, id string, p *WatchdogProps) *Watchdog {
	c := constructs.NewConstruct(scope, &id)
	stackName := *awscdk.Aws_STACK_NAME()
	if p.NamePrefix != "" {
		stackName = p.NamePrefix
	}
	w := &Watchdog{Construct: c}
	for _, r := range watchdogRules {
		if !r.guards(p.Own) {
			continue
		}
		own := p.Own
		switch r.name {
		case "rule":
			own.Rules = append([]string{}, p.Own.Rules...)
			for _, other := range watchdogRules {
				if other.name != r.name && other.guards(p.Own) {
					own.Rules = append(own.Rules, WatchdogRuleName(stackName, other.name))
				}
			}
		case "rule-guard":
			own.Rules = []string{WatchdogRuleName(stackName, "rule")}
		}
		pattern := WatchdogPattern(r.part, own)
		detail := pattern["detail"].(map[string]any)
		rule := awsevents.NewRule(c, jsii.String(r.id), &awsevents.RuleProps{
			RuleName:    jsii.String(WatchdogRuleName(stackName, r.name)),
			Description: jsii.String("bucketguard watchdog: calls that can blind or disarm bucketguard (" + string(r.part) + ")"),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings(anyStrings(pattern["source"].([]any))...),
				DetailType: jsii.Strings(events.DetailType),
				Detail:     &detail,
			},
		})
		rule.AddTarget(awseventstargets.NewSnsTopic(p.OpsTopic, &awseventstargets.SnsTopicProps{
			Message:         watchdogMessage(r.part),
			DeadLetterQueue: p.DeadLetter,
			RetryAttempts:   jsii.Number(8),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
		}))
		if p.Remediate != nil && !r.part.Watches() {
			rule.AddTarget(awseventstargets.NewLambdaFunction(p.Remediate, &awseventstargets.LambdaFunctionProps{
				DeadLetterQueue: p.DeadLetter,
				RetryAttempts:   jsii.Number(2),
				MaxEventAge:     awscdk.Duration_Hours(jsii.Number(1)),
			}))
		}
		w.Rules = append(w.Rules, rule)
	}
	return w
}

// watchdogMessage is the one line the operations topic receives.
func watchdogMessage(part events.Part) awsevents.RuleTargetInput {
	field := func(path string) string { return *awsevents.EventField_FromPath(jsii.String(path)) }
	what := "bucketguard's " + string(part)
	switch part {
	case events.TrailPart:
		what = "a CloudTrail trail"
	case events.LogsPart:
		what = "bucketguard's log group"
	}
	return awsevents.RuleTargetInput_FromText(jsii.String(fmt.Sprintf(
		"bucketguard watchdog: %s called %s on %s in %s/%s at %s from %s; bucketguard may be blind or disarmed. Request: %s",
		field("$.detail.userIdentity.arn"), field("$.detail.eventName"), what, field("$.account"), field("$.detail.awsRegion"),
		field("$.detail.eventTime"), field("$.detail.sourceIPAddress"), field("$.detail.requestParameters"))))
}

// anyStrings reads a []any of strings.
func anyStrings(v []any) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i], _ = s.(string)
	}
	return out
}
