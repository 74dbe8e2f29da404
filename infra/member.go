package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/op"
)

// MemberStackName is the member template's stack in the cloud assembly
// (cdk.out/BucketGuard-Member.template.json).
const MemberStackName = "BucketGuard-Member"

// The member template's parameters: what varies per OU or account. The
// StackSet sets them for every instance, and each rollout ring overrides
// what it needs (Mode, first of all).
const (
	ParamMode                 = "Mode"
	ParamSweepSchedule        = "SweepSchedule"
	ParamSweepConcurrency     = "SweepConcurrency"
	ParamRemediateConcurrency = "RemediateConcurrency"
	ParamAssetBucketPrefix    = "AssetBucketPrefix"
	ParamAssetKeyPrefix       = "AssetKeyPrefix"
	ParamHeartbeatBus         = "HeartbeatBusArn"
)

// The e-mail subscriptions a member template can make, each an optional
// parameter: a template has a fixed set of resources, so a fixed number of
// slots (more addresses: a distribution list, or subscribe to the topic).
const (
	AlertEmailSlots = 3
	OpsEmailSlots   = 2
	OwnerRouteSlots = 3
)

// memberRulePrefix begins the member's watchdog rule names: a StackSet's
// stack names are too long for them (WatchdogProps.NamePrefix).
const memberRulePrefix = "bucketguard"

// AlertEmailParam, OpsEmailParam, OwnerParam and OwnerEmailParam name the
// slots, from 1.
func AlertEmailParam(i int) string { return fmt.Sprintf("AlertEmail%d", i) }
func OpsEmailParam(i int) string   { return fmt.Sprintf("OpsEmail%d", i) }
func OwnerParam(i int) string      { return fmt.Sprintf("OwnerRoute%dOwner", i) }
func OwnerEmailParam(i int) string { return fmt.Sprintf("OwnerRoute%dEmail", i) }

// Member is the member template: bucketguard's per-account stack, made
// deployable by a service-managed StackSet in every account and region of
// an organization. It is environment-agnostic (no account or region
// literal), has no CDK metadata, no bootstrap version rule and no asset:
// the functions' code comes from the asset bucket of the region the stack
// runs in (AssetBucketPrefix-<region>), which the organization can read.
// The trail is left to the organization trail.
type Member struct {
	*Stack
	// Params are the template's parameters, by name.
	Params map[string]awscdk.CfnParameter
}

// MemberProps configures the member template.
type MemberProps struct {
	// Settings are the app's settings: the engine's defaults, log
	// retention, the rule's self-exclusion. Regions, the account, the
	// e-mail addresses and the trail are not used: they vary per account,
	// or are the organization's.
	Settings Settings
}

// NewMemberStack builds the member template.
func NewMemberStack(scope constructs.Construct, p *MemberProps) *Member {
	st := p.Settings
	st.Account, st.CreateTrail = "", false
	st.AlertEmails, st.OpsEmails, st.OwnerRoutes = nil, nil, nil
	// Strings flow into the functions' environment as references to the
	// parameters; the parameters themselves are added to the stack below,
	// under these logical IDs.
	st.Engine.Mode = config.Mode(*awscdk.Fn_Ref(jsii.String(ParamMode)))
	st.SweepSchedule = *awscdk.Fn_Ref(jsii.String(ParamSweepSchedule))
	// Each stack knows only its own region: the home sweep's account-wide
	// work (the trail check) runs in each region, for that region.
	st.Engine.StackRegions = []string{*awscdk.Aws_REGION()}
	st.RemediateConcurrency = 0 // set from the parameter below

	var assets awss3.IBucket
	code := func(scope constructs.Construct, bundle string) awslambda.Code {
		if assets == nil {
			assets = awss3.Bucket_FromBucketName(awscdk.Stack_Of(scope), jsii.String("Assets"),
				awscdk.Fn_Sub(jsii.String("${"+ParamAssetBucketPrefix+"}-${AWS::Region}"), nil))
		}
		return awslambda.Code_FromBucket(assets, awscdk.Fn_Sub(jsii.String("${"+ParamAssetKeyPrefix+"}"+bundle+".zip"), nil), nil)
	}
	s := NewStack(scope, MemberStackName, &StackProps{
		StackProps: awscdk.StackProps{
			Description: jsii.String("bucketguard member: keeps S3 buckets from being left open (deployed by the BucketGuard StackSet)"),
			// No AWS::CDK::Metadata, no bootstrap version rule; the
			// synthesizer refuses any asset.
			AnalyticsReporting: jsii.Bool(false),
			Synthesizer:        awscdk.NewBootstraplessSynthesizer(nil),
		},
		Settings:       st,
		Code:           code,
		NoKey:          true,
		RuleNamePrefix: memberRulePrefix,
	})
	m := &Member{Stack: s, Params: map[string]awscdk.CfnParameter{}}
	param := func(name string, props *awscdk.CfnParameterProps) awscdk.CfnParameter {
		prm := awscdk.NewCfnParameter(s.Stack, jsii.String(name), props)
		m.Params[name] = prm
		return prm
	}
	param(ParamMode, &awscdk.CfnParameterProps{Type: jsii.String("String"), Default: jsii.String(string(p.Settings.Engine.Mode)),
		AllowedValues: jsii.Strings(string(config.Enforce), string(config.Notify)),
		Description:   jsii.String("enforce fixes and alerts; notify only alerts")})
	param(ParamSweepSchedule, &awscdk.CfnParameterProps{Type: jsii.String("String"), Default: jsii.String(p.Settings.SweepSchedule),
		AllowedPattern: jsii.String(scheduleRE.String()),
		Description:    jsii.String("EventBridge schedule expression of the sweep: rate(1 day), cron(...)")})
	sweepConcurrency := param(ParamSweepConcurrency, &awscdk.CfnParameterProps{Type: jsii.String("Number"),
		Default: jsii.Number(float64(p.Settings.Engine.SweepConcurrency)), MinValue: jsii.Number(1), MaxValue: jsii.Number(config.MaxSweepConcurrency),
		Description: jsii.String("buckets a sweep evaluates at once")})
	reserved := param(ParamRemediateConcurrency, &awscdk.CfnParameterProps{Type: jsii.String("Number"),
		Default: jsii.Number(float64(p.Settings.RemediateConcurrency)), MinValue: jsii.Number(0), MaxValue: jsii.Number(1000),
		Description: jsii.String("reserved concurrency of the remediate function; 0 leaves it unreserved")})
	param(ParamAssetBucketPrefix, &awscdk.CfnParameterProps{Type: jsii.String("String"),
		AllowedPattern: jsii.String(`^[a-z0-9][a-z0-9.-]{1,40}$`),
		Description:    jsii.String("the asset buckets' name without the region: the functions' code is read from <prefix>-<region>")})
	param(ParamAssetKeyPrefix, &awscdk.CfnParameterProps{Type: jsii.String("String"), Default: jsii.String("bucketguard/"),
		AllowedPattern: jsii.String(`^[A-Za-z0-9!_.*'()/-]*$`),
		Description:    jsii.String("key prefix of remediate.zip and sweep.zip in the asset bucket (a version, say bucketguard/1.4.0/)")})
	bus := param(ParamHeartbeatBus, &awscdk.CfnParameterProps{Type: jsii.String("String"), Default: jsii.String(""),
		AllowedPattern: jsii.String(`^(arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._/-]+)?$`),
		Description:    jsii.String("the central event bus of the organization's admin account; the sweep sends a heartbeat and its outcomes there after each run (empty: none)")})

	optional := func(id string, prm awscdk.CfnParameter) awscdk.CfnCondition {
		return awscdk.NewCfnCondition(s.Stack, jsii.String(id), &awscdk.CfnConditionProps{
			Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(prm.ValueAsString(), jsii.String(""))),
		})
	}
	email := func(name, what string) awscdk.CfnParameter {
		return param(name, &awscdk.CfnParameterProps{Type: jsii.String("String"), Default: jsii.String(""),
			AllowedPattern: jsii.String(`^([^@\s]+@[^@\s]+\.[^@\s]+)?$`), Description: jsii.String(what + " (optional)")})
	}
	subscribe := func(id string, topic awssns.ITopic, address awscdk.CfnParameter, cond awscdk.CfnCondition, filter any) {
		props := &awssns.CfnSubscriptionProps{TopicArn: topic.TopicArn(), Protocol: jsii.String("email"), Endpoint: address.ValueAsString()}
		if filter != nil {
			props.FilterPolicy = filter
		}
		sub := awssns.NewCfnSubscription(s.Stack, jsii.String(id), props)
		sub.CfnOptions().SetCondition(cond)
	}
	for i := 1; i <= AlertEmailSlots; i++ {
		prm := email(AlertEmailParam(i), fmt.Sprintf("e-mail address %d that gets every alert", i))
		subscribe(AlertEmailParam(i)+"Subscription", s.Alerting.Topic, prm, optional("Has"+AlertEmailParam(i), prm), nil)
	}
	for i := 1; i <= OpsEmailSlots; i++ {
		prm := email(OpsEmailParam(i), fmt.Sprintf("e-mail address %d for the operations alarms", i))
		subscribe(OpsEmailParam(i)+"Subscription", s.Monitoring.OpsTopic, prm, optional("Has"+OpsEmailParam(i), prm), nil)
	}
	for i := 1; i <= OwnerRouteSlots; i++ {
		owner := param(OwnerParam(i), &awscdk.CfnParameterProps{Type: jsii.String("String"), Default: jsii.String(""),
			AllowedPattern: jsii.String(`^[\p{L}\p{N} _.:/=+\-@]{0,256}$`),
			Description:    jsii.String(fmt.Sprintf("owner tag value of owner route %d: its alerts go to %s (optional)", i, OwnerEmailParam(i)))})
		address := email(OwnerEmailParam(i), fmt.Sprintf("e-mail address of owner route %d", i))
		cond := awscdk.NewCfnCondition(s.Stack, jsii.String("Has"+strings.TrimSuffix(OwnerParam(i), "Owner")), &awscdk.CfnConditionProps{
			Expression: awscdk.Fn_ConditionAnd(
				awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(owner.ValueAsString(), jsii.String(""))),
				awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(address.ValueAsString(), jsii.String("")))),
		})
		subscribe(strings.TrimSuffix(OwnerParam(i), "Owner")+"Subscription", s.Alerting.Topic, address, cond,
			map[string]any{"owner": []any{owner.ValueAsString()}})
	}

	// The numbers: the sweep's concurrency in its environment, and the
	// remediate function's reserved concurrency, unreserved at 0.
	if s.Sweep != nil {
		s.Sweep.Function.AddEnvironment(jsii.String(config.EnvSweepConcurrency), sweepConcurrency.ValueAsString(), nil)
	}
	unreserved := awscdk.NewCfnCondition(s.Stack, jsii.String("Unreserved"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(reserved.ValueAsNumber(), jsii.Number(0)),
	})
	s.Remediate.Function.Node().DefaultChild().(awslambda.CfnFunction).SetReservedConcurrentExecutions(
		awscdk.Token_AsNumber(awscdk.Fn_ConditionIf(unreserved.LogicalId(), awscdk.Aws_NO_VALUE(), reserved.ValueAsNumber())))

	// The central bus, when one is given: the sweep's heartbeat after each
	// run, and both functions' outcomes; a policy of its own, there only
	// then.
	hasBus := optional("HasHeartbeatBus", bus)
	central := []awsiam.IRole{s.Remediate.Role}
	s.Remediate.Function.AddEnvironment(jsii.String(config.EnvHeartbeatBus), bus.ValueAsString(), nil)
	if s.Sweep != nil {
		s.Sweep.Function.AddEnvironment(jsii.String(config.EnvHeartbeatBus), bus.ValueAsString(), nil)
		central = append(central, s.Sweep.Role)
	}
	beat := awsiam.NewPolicy(s.Stack, jsii.String("CentralBus"), &awsiam.PolicyProps{
		Roles: &central,
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("CentralBus"), Actions: jsii.Strings(op.Actions([]op.Operation{op.PutEvents}, op.EventBus)...),
			Resources: &[]*string{bus.ValueAsString()},
		})},
	})
	beat.Node().DefaultChild().(awsiam.CfnPolicy).CfnOptions().SetCondition(hasBus)
	// The code is versioned by its key prefix: a new version is a new key.
	awscdk.Annotations_Of(s.Stack).AcknowledgeWarning(jsii.String("@aws-cdk/aws-lambda:codeFromBucketObjectVersionNotSpecified"),
		jsii.String("each release is published under its own key prefix (AssetKeyPrefix), so a new version changes the template"))
	// A fight is told to the operations topic by the function itself, with
	// the actor and the settings; its alarm, a second notice, is left out
	// to keep the member at ten alarm metrics.
	s.Monitoring.Node().TryRemoveChild(jsii.String("Fights"))
	suppress(s.Monitoring.OpsTopic, "AwsSolutions-SNS2",
		"the member template has no customer managed key ($1.00 a month per account and region): CloudWatch alarms and EventBridge cannot publish to a topic under the AWS managed key, so the operations topic, which carries only alarm and watchdog notices, is unencrypted (TLS-only)")
	return m
}
