package main

import (
	"cmp"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/op"
)

// StackProps configures one region's stack.
type StackProps struct {
	awscdk.StackProps
	Settings Settings
	// Dist is the directory with one folder per function (make build).
	Dist string
	// Trail creates the CloudTrail trail in this stack.
	Trail bool
	// Code, when set, gives each function's code by bundle name instead of
	// Dist (the member template's, from an asset bucket).
	Code func(scope constructs.Construct, bundle string) awslambda.Code
	// NoKey leaves out the customer managed key (AlertingProps.NoKey).
	NoKey bool
	// RuleNamePrefix begins the watchdog rules' names; empty is the
	// stack's name (WatchdogProps.NamePrefix).
	RuleNamePrefix string
}

// Stack is bucketguard in one account and region.
type Stack struct {
	awscdk.Stack
	Alerting   *Alerting
	Remediate  *Remediator
	Sweep      *Remediator
	Detection  *Detection
	Trail      *Trail
	Monitoring *Monitoring
	// Canary proves the event path every hour (docs/selfdefense.md).
	Canary *Canary
	// Watchdog tells the operations topic when bucketguard is blinded or
	// disarmed (docs/selfdefense.md).
	Watchdog *Watchdog
}

// Function sizes, from measurement (make demo, on the emulator): one event
// takes 35-107 ms and six events in one process peak at 32 MB resident; on
// AWS the three network rounds (read, write, read back) add a few hundred
// ms. 256 MB buys the CPU share for TLS handshakes; 60 s covers the SDK's
// retries of a throttled call with room for the 5 s deadline margin.
const (
	remediateMemoryMB = 256
	remediateTimeout  = 60
	// The sweep evaluates a few buckets at once and keeps counters only: its
	// memory does not grow with the number of buckets (docs/sweep.md).
	sweepMemoryMB = 256
)

// NewStack composes the constructs.
func NewStack(scope constructs.Construct, id string, p *StackProps) *Stack {
	stack := awscdk.NewStack(scope, &id, &p.StackProps)
	s := &Stack{Stack: stack}
	st := p.Settings

	s.Alerting = NewAlerting(stack, "Alerting", &AlertingProps{AlertEmails: st.AlertEmails, OwnerRoutes: st.OwnerRoutes, ChatTopic: st.ChatTopic, NoKey: p.NoKey})
	// Both functions share the engine's settings, the alert path and the
	// log retention; they differ in bundle, size, time and purpose.
	function := func(bundle string, memoryMB float64, timeout awscdk.Duration, description string) RemediatorProps {
		var code awslambda.Code
		if p.Code != nil {
			code = p.Code(stack, bundle)
		}
		return RemediatorProps{
			AssetDir:         filepath.Join(p.Dist, bundle),
			Code:             code,
			Engine:           st.Engine,
			Topic:            s.Alerting.Topic,
			Key:              s.Alerting.Key,
			Undelivered:      s.Alerting.Undelivered,
			Ledger:           s.Alerting.Ledger,
			ChatTopic:        s.Alerting.ChatTopic,
			LogRetentionDays: st.LogRetentionDays,
			MemoryMB:         memoryMB,
			Timeout:          timeout,
			Description:      description,
		}
	}
	remediate := function("remediate", remediateMemoryMB, awscdk.Duration_Seconds(jsii.Number(remediateTimeout)),
		"bucketguard: remediates an S3 bucket after a risky configuration change")
	remediate.ReservedConcurrency = st.RemediateConcurrency
	s.Remediate = NewRemediator(stack, "Remediate", &remediate)
	deadLetters := encryptedQueue(stack, "RuleDeadLetters", nil)
	selfRoles := []*string{s.Remediate.Role.RoleArn()}
	selfSessions := []*string{SessionARN(s.Remediate.Role, s.Remediate.Function)}
	if st.Engine.HeartbeatBus != "" {
		// Each event's outcome, on the organization's bus only.
		s.Remediate.Role.AddToPolicy(centralBus(st.Engine.HeartbeatBus))
	}
	watched := []Watched{{Name: "Remediate", Function: s.Remediate.Function, LogGroup: s.Remediate.LogGroup, NoInvocationsHours: st.NoInvocationsAlarmHours, EventPath: true}}
	queues := map[string]awssqs.IQueue{
		"RemediateFailures": s.Remediate.Failures,
		"RuleDeadLetters":   deadLetters,
		"UndeliveredAlerts": s.Alerting.Undelivered,
	}
	if st.SweepSchedule != "off" {
		s.Sweep = NewSweep(stack, "Sweep", &SweepProps{
			RemediatorProps: function("sweep", sweepMemoryMB, awscdk.Duration_Minutes(jsii.Number(15)),
				"bucketguard: evaluates every bucket of the region on a schedule"),
			Schedule:   st.SweepSchedule,
			DeadLetter: deadLetters,
		})
		selfRoles = append(selfRoles, s.Sweep.Role.RoleArn())
		selfSessions = append(selfSessions, SessionARN(s.Sweep.Role, s.Sweep.Function))
		watched = append(watched, Watched{Name: "Sweep", Function: s.Sweep.Function, LogGroup: s.Sweep.LogGroup})
		queues["SweepFailures"] = s.Sweep.Failures
		if st.Engine.HeartbeatBus != "" {
			// The heartbeat after each run, on the organization's bus only.
			s.Sweep.Role.AddToPolicy(centralBus(st.Engine.HeartbeatBus))
		}
	}
	if st.CanarySchedule != "off" {
		s.Canary = NewCanary(stack, "Canary", &CanaryProps{Schedule: st.CanarySchedule})
		s.Remediate.Function.AddEnvironment(jsii.String(config.EnvCanaryBucket), s.Canary.Bucket.BucketName(), nil)
	}
	// Each function skips the changes of both: neither re-enters the engine.
	roles := *selfRoles[0]
	for _, r := range selfRoles[1:] {
		roles += "," + *r
	}
	s.Remediate.Function.AddEnvironment(jsii.String(config.EnvSelfRoleARN), jsii.String(roles), nil)
	if s.Sweep != nil {
		s.Sweep.Function.AddEnvironment(jsii.String(config.EnvSelfRoleARN), jsii.String(roles), nil)
	}
	s.Detection = NewDetection(stack, "Detection", &DetectionProps{
		Target:          s.Remediate.Function,
		SelfSessionARNs: selfSessions,
		DeadLetter:      deadLetters,
	})
	if p.Trail {
		s.Trail = NewTrail(stack, "Trail")
	} else {
		awscdk.NewCfnOutput(stack, jsii.String("TrailRequired"), &awscdk.CfnOutputProps{
			Description: jsii.String("bucketguard sees S3 changes only where a CloudTrail trail logs management events"),
			Value: jsii.String("No trail was created (createTrail=false): make sure a trail (for example the organization trail) " +
				"logs write management events in this region, or the rule never fires."),
		})
	}
	s.Monitoring = NewMonitoring(stack, "Monitoring", &MonitoringProps{
		Key:       s.Alerting.Key,
		OpsEmails: st.OpsEmails,
		Functions: watched,
		Queues:    queues,
		Reports:   st.Engine.SecurityHub || st.ChatTopic || st.Engine.HeartbeatBus != "",
		Dashboard: st.Dashboard,
		CanaryAlarmHours: func() int {
			if st.CanarySchedule == "off" {
				return 0
			}
			return st.CanaryAlarmHours
		}(),
		CanaryLog:   s.Remediate.LogGroup,
		AlarmPrefix: cmp.Or(p.RuleNamePrefix, *awscdk.Aws_STACK_NAME()),
	})
	// Both functions tell the operations topic of a fight and of a sweep's
	// fix budget that held.
	for _, r := range []*Remediator{s.Remediate, s.Sweep} {
		if r == nil {
			continue
		}
		r.Function.AddEnvironment(jsii.String(config.EnvOpsTopicARN), s.Monitoring.OpsTopic.TopicArn(), nil)
		r.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("PublishOperations"), Actions: jsii.Strings(op.Actions([]op.Operation{op.Publish}, op.Topic)...),
			Resources: &[]*string{s.Monitoring.OpsTopic.TopicArn()}}))
	}
	own := Own{
		Rules:     []string{*s.Detection.Rule.RuleName()},
		Functions: []string{*s.Remediate.Function.FunctionName()},
		Roles:     []string{*s.Remediate.Role.RoleName()},
		Topics:    []string{*s.Alerting.Topic.TopicArn(), *s.Monitoring.OpsTopic.TopicArn()},
		// The monitoring names every alarm under this prefix.
		AlarmPrefix: AlarmNamePrefix(cmp.Or(p.RuleNamePrefix, *awscdk.Aws_STACK_NAME())),
		LogGroups:   []string{*s.Remediate.LogGroup.LogGroupName()},
	}
	if s.Alerting.Key != nil {
		own.Keys = []string{*s.Alerting.Key.KeyArn()}
	}
	if s.Sweep != nil {
		own.Rules = append(own.Rules, *s.Sweep.Node().FindChild(jsii.String("Schedule")).(awsevents.IRule).RuleName())
		own.Functions = append(own.Functions, *s.Sweep.Function.FunctionName())
		own.Roles = append(own.Roles, *s.Sweep.Role.RoleName())
		own.LogGroups = append(own.LogGroups, *s.Sweep.LogGroup.LogGroupName())
	}
	for _, name := range sortedKeys(queues) {
		own.Queues = append(own.Queues, *queues[name].QueueName())
	}
	watchdog := &WatchdogProps{Own: own, OpsTopic: s.Monitoring.OpsTopic, DeadLetter: deadLetters, NamePrefix: p.RuleNamePrefix}
	if s.Sweep != nil {
		// After a guarded call the remediate function starts a sweep at
		// once: it names the sweep function and may invoke it, and only it.
		watchdog.Remediate = s.Remediate.Function
		s.Remediate.Function.AddEnvironment(jsii.String(config.EnvSweepFunction), s.Sweep.Function.FunctionArn(), nil)
		s.Remediate.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("StartSweep"), Actions: jsii.Strings(op.Actions([]op.Operation{op.Invoke}, op.Function)...),
			Resources: &[]*string{s.Sweep.Function.FunctionArn()}}))
	}
	s.Watchdog = NewWatchdog(stack, "Watchdog", watchdog)
	awscdk.NewCfnOutput(stack, jsii.String("AlertTopicArn"), &awscdk.CfnOutputProps{Value: s.Alerting.Topic.TopicArn(),
		Description: jsii.String("subscribe owners here, with a filter policy on the owner attribute")})
	awscdk.NewCfnOutput(stack, jsii.String("RemediatorRoleArn"), &awscdk.CfnOutputProps{Value: s.Remediate.Role.RoleArn(),
		Description: jsii.String("bucketguard's own role: its changes are not evaluated again")})
	return s
}

// centralBus lets a function put events on the organization's central bus
// (the sweep's heartbeats, both functions' outcomes), and on no other.
func centralBus(arn string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("CentralBus"), Actions: jsii.Strings(op.Actions([]op.Operation{op.PutEvents}, op.EventBus)...),
		Resources: jsii.Strings(arn)})
}
