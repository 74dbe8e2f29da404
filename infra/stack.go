package main

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StackProps configures one region's stack.
type StackProps struct {
	awscdk.StackProps
	Settings Settings
	// Dist is the directory with one folder per function (make build).
	Dist string
	// Trail creates the CloudTrail trail in this stack.
	Trail bool
}

// Stack is bucketguard in one account and region.
type Stack struct {
	awscdk.Stack
	Alerting   *Alerting
	Remediate  *Remediator
	Detection  *Detection
	Trail      *Trail
	Monitoring *Monitoring
}

// Function sizes, from measurement (make demo, on the emulator): one event
// takes 35-107 ms and six events in one process peak at 32 MB resident; on
// AWS the three network rounds (read, write, read back) add a few hundred
// ms. 256 MB buys the CPU share for TLS handshakes; 60 s covers the SDK's
// retries of a throttled call with room for the 5 s deadline margin.
const (
	remediateMemoryMB = 256
	remediateTimeout  = 60
)

// NewStack composes the constructs.
func NewStack(scope constructs.Construct, id string, p *StackProps) *Stack {
	stack := awscdk.NewStack(scope, &id, &p.StackProps)
	s := &Stack{Stack: stack}
	st := p.Settings

	s.Alerting = NewAlerting(stack, "Alerting", &AlertingProps{AlertEmails: st.AlertEmails, OwnerRoutes: st.OwnerRoutes})
	s.Remediate = NewRemediator(stack, "Remediate", &RemediatorProps{
		AssetDir:         filepath.Join(p.Dist, "remediate"),
		Engine:           st.Engine,
		Topic:            s.Alerting.Topic,
		Key:              s.Alerting.Key,
		Undelivered:      s.Alerting.Undelivered,
		Ledger:           s.Alerting.Ledger,
		LogRetentionDays: st.LogRetentionDays,
		MemoryMB:         remediateMemoryMB,
		Timeout:          awscdk.Duration_Seconds(jsii.Number(remediateTimeout)),
		Description:      "bucketguard: remediates an S3 bucket after a risky configuration change",
	})
	deadLetters := encryptedQueue(stack, "RuleDeadLetters", nil)
	s.Detection = NewDetection(stack, "Detection", &DetectionProps{
		Target:      s.Remediate.Function,
		SelfRoleARN: s.Remediate.Role.RoleArn(),
		DeadLetter:  deadLetters,
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
		Functions: []Watched{{Name: "Remediate", Function: s.Remediate.Function, LogGroup: s.Remediate.LogGroup, NoInvocationsHours: st.NoInvocationsAlarmHours}},
		Queues: map[string]awssqs.IQueue{
			"RemediateFailures": s.Remediate.Failures,
			"RuleDeadLetters":   deadLetters,
			"UndeliveredAlerts": s.Alerting.Undelivered,
		},
	})
	awscdk.NewCfnOutput(stack, jsii.String("AlertTopicArn"), &awscdk.CfnOutputProps{Value: s.Alerting.Topic.TopicArn(),
		Description: jsii.String("subscribe owners here, with a filter policy on the owner attribute")})
	awscdk.NewCfnOutput(stack, jsii.String("RemediatorRoleArn"), &awscdk.CfnOutputProps{Value: s.Remediate.Role.RoleArn(),
		Description: jsii.String("bucketguard's own role: its changes are not evaluated again")})
	return s
}
