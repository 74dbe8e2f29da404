package main

import (
	"fmt"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/remediations/contract"
)

// The organization's stacks in the cloud assembly.
const (
	// OrgStackName is the admin stack, for the delegated administrator.
	OrgStackName = "BucketGuard-Org"
	// StackSetName names the StackSet: its stacks are named
	// StackSet-<name>-<UUID>, and bucketguard coverage lists its instances.
	StackSetName = "BucketGuard"
	// MemberTemplateFile is the member template's object name in the home
	// region's asset bucket, under the key prefix.
	MemberTemplateFile = contract.MemberTemplateObject
)

// AssetsStackName is the asset bucket's stack of one region.
func AssetsStackName(region string) string { return "BucketGuard-OrgAssets-" + region }

// AssetBucketPrefix is the asset buckets' name less "-<region>", in the
// admin account: bucket names are global, the account makes them unique.
func assetBucketPrefix() *string {
	return awscdk.Fn_Sub(jsii.String(contract.AssetBucketPrefix+"-${AWS::AccountId}"), nil)
}

// ringParam and ringModeParam name a ring's parameters in the admin stack.
func ringParam(ring Ring) string     { return ring.Name + "OrganizationalUnits" }
func ringModeParam(ring Ring) string { return ring.Name + "Mode" }

// OrgProps configures the organization's stacks.
type OrgProps struct {
	Settings Settings
	Org      OrgSettings
	// Dist holds the coverage check's bundle (make build: dist/coverage).
	Dist string
}

// OrgStacks are what the delegated administrator deploys.
type OrgStacks struct {
	// Admin holds the StackSet and the central heartbeat bus.
	Admin awscdk.Stack
	// Assets are the asset buckets, one stack per region the StackSet
	// deploys to.
	Assets []awscdk.Stack
	// Member is the template the StackSet deploys.
	Member *Member
	// StackSet is the StackSet resource.
	StackSet awscdk.CfnStackSet
	// Heartbeats is the table of the latest heartbeat per account and
	// region, when heartbeats are on.
	Heartbeats awsdynamodb.Table
	// Coverage is the scheduled coverage check and its alarm.
	Coverage *CoverageCheck
}

// NewOrg adds the member template, the asset buckets and the admin stack.
// The admin stack is pinned to the app's account, when one is given, and
// to the first region (home); the member template to neither.
func NewOrg(app constructs.Construct, p *OrgProps) *OrgStacks {
	o := &OrgStacks{Member: NewMemberStack(app, &MemberProps{Settings: p.Settings})}
	env := func(region string) *awscdk.Environment {
		e := &awscdk.Environment{Region: jsii.String(region)}
		if p.Settings.Account != "" {
			e.Account = jsii.String(p.Settings.Account)
		}
		return e
	}
	for _, region := range p.Org.Regions {
		o.Assets = append(o.Assets, newAssetsStack(app, AssetsStackName(region), env(region)))
	}
	home := p.Org.Regions[0]
	admin := awscdk.NewStack(app, jsii.String(OrgStackName), &awscdk.StackProps{
		Env:         env(home),
		Description: jsii.String("bucketguard organization: the member StackSet and the central heartbeat bus (delegated administrator)"),
	})
	o.Admin = admin
	orgID := awscdk.NewCfnParameter(admin, jsii.String("OrganizationId"), &awscdk.CfnParameterProps{Type: jsii.String("String"),
		AllowedPattern: jsii.String(`^o-[a-z0-9]{10,32}$`), Description: jsii.String("the organization's id (aws organizations describe-organization)")})
	keyPrefix := awscdk.NewCfnParameter(admin, jsii.String(ParamAssetKeyPrefix), &awscdk.CfnParameterProps{Type: jsii.String("String"),
		Default: jsii.String("bucketguard/"), AllowedPattern: jsii.String(`^[A-Za-z0-9!_.*'()/-]*$`),
		Description: jsii.String("key prefix of the published assets (remediate.zip, sweep.zip, " + MemberTemplateFile + "): a new prefix per version updates every stack")})

	params := []*awscdk.CfnStackSet_ParameterProperty{
		{ParameterKey: jsii.String(ParamAssetBucketPrefix), ParameterValue: assetBucketPrefix()},
		{ParameterKey: jsii.String(ParamAssetKeyPrefix), ParameterValue: keyPrefix.ValueAsString()},
	}
	set := func(key, value string) {
		params = append(params, &awscdk.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(key), ParameterValue: jsii.String(value)})
	}
	for i, e := range first(p.Settings.AlertEmails, AlertEmailSlots) {
		set(AlertEmailParam(i+1), e)
	}
	for i, e := range first(p.Settings.OpsEmails, OpsEmailSlots) {
		set(OpsEmailParam(i+1), e)
	}
	i := 0
	for _, owner := range sortedKeys(p.Settings.OwnerRoutes) {
		for _, e := range p.Settings.OwnerRoutes[owner] {
			if i++; i <= OwnerRouteSlots {
				set(OwnerParam(i), owner)
				set(OwnerEmailParam(i), e)
			}
		}
	}
	if p.Org.Heartbeats {
		bus, table := newHeartbeats(admin, "Heartbeats", orgID)
		o.Heartbeats = table
		params = append(params, &awscdk.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(ParamHeartbeatBus), ParameterValue: bus.EventBusArn()})
		awscdk.NewCfnOutput(admin, jsii.String("HeartbeatBusArn"), &awscdk.CfnOutputProps{Value: bus.EventBusArn(),
			Description: jsii.String("the central bus: members' sweeps send their heartbeats here")})
		awscdk.NewCfnOutput(admin, jsii.String("HeartbeatTable"), &awscdk.CfnOutputProps{Value: table.TableName(),
			Description: jsii.String("the latest heartbeat per account and region: bucketguard coverage --heartbeats TABLE")})
	}

	var groups []any
	for _, ring := range p.Org.Rings {
		ous := awscdk.NewCfnParameter(admin, jsii.String(ringParam(ring)), &awscdk.CfnParameterProps{Type: jsii.String("CommaDelimitedList"),
			Description: jsii.String(fmt.Sprintf("ring %s: the organizational units (ou-...) or the root (r-...) it deploys to, with their children", ring.Name))})
		mode := awscdk.NewCfnParameter(admin, jsii.String(ringModeParam(ring)), &awscdk.CfnParameterProps{Type: jsii.String("String"),
			Default: jsii.String(ring.Mode), AllowedValues: jsii.Strings("enforce", "notify"),
			Description: jsii.String(fmt.Sprintf("ring %s: notify only alerts; enforce fixes too", ring.Name))})
		groups = append(groups, &awscdk.CfnStackSet_StackInstancesProperty{
			DeploymentTargets:  &awscdk.CfnStackSet_DeploymentTargetsProperty{OrganizationalUnitIds: ous.ValueAsList()},
			Regions:            jsii.Strings(ring.Regions...),
			ParameterOverrides: []any{&awscdk.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(ParamMode), ParameterValue: mode.ValueAsString()}},
		})
	}
	// Service-managed: StackSets creates the roles in the member accounts
	// and deploys to every account of the OUs, and to accounts that join
	// them later (automatic deployment); an account that leaves loses its
	// stacks. The management account is never a target: it takes the
	// per-account deploy.
	// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html
	// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html
	o.StackSet = awscdk.NewCfnStackSet(admin, jsii.String("StackSet"), &awscdk.CfnStackSetProps{
		StackSetName:    jsii.String(StackSetName),
		Description:     jsii.String("bucketguard in every account and region of the organization's OUs"),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		AutoDeployment:  &awscdk.CfnStackSet_AutoDeploymentProperty{Enabled: jsii.Bool(true), RetainStacksOnAccountRemoval: jsii.Bool(false)},
		// Operations queue rather than fail while another runs.
		// (A map: the CDK writes the struct's field in lower case.)
		ManagedExecution: map[string]any{"Active": true},
		CallAs:           jsii.String(p.Org.CallAs),
		// The member template's IAM roles have generated names.
		Capabilities: jsii.Strings("CAPABILITY_IAM"),
		OperationPreferences: &awscdk.CfnStackSet_OperationPreferencesProperty{
			RegionConcurrencyType:      jsii.String("PARALLEL"),
			FailureTolerancePercentage: jsii.Number(float64(p.Org.FailureTolerancePercentage)),
			MaxConcurrentPercentage:    jsii.Number(float64(p.Org.MaxConcurrentPercentage)),
			ConcurrencyMode:            jsii.String("SOFT_FAILURE_TOLERANCE"),
		},
		Parameters: params,
		// The member template is over the 51,200 bytes a TemplateBody may
		// hold: it is read from the home region's asset bucket, where the
		// publishing step puts it beside the functions' code.
		// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html
		TemplateUrl: awscdk.Fn_Sub(jsii.String("https://${Prefix}-${AWS::Region}.s3.${AWS::Region}.${AWS::URLSuffix}/${"+ParamAssetKeyPrefix+"}"+MemberTemplateFile),
			&map[string]*string{"Prefix": assetBucketPrefix()}),
		StackInstancesGroup: groups,
	})
	awscdk.NewCfnOutput(admin, jsii.String("StackSetName"), &awscdk.CfnOutputProps{Value: jsii.String(StackSetName),
		Description: jsii.String("bucketguard coverage --stack-set NAME")})
	check := &CoverageCheckProps{AssetDir: filepath.Join(p.Dist, "coverage"), Org: p.Org, OpsEmails: p.Settings.OpsEmails, Schedule: "rate(6 hours)"}
	if o.Heartbeats != nil {
		check.Heartbeats = o.Heartbeats
	}
	o.Coverage = NewCoverageCheck(admin, "Coverage", check)
	return o
}

// first returns at most n of list.
func first(list []string, n int) []string {
	return list[:min(len(list), n)]
}

// newAssetsStack is one region's asset bucket: the functions' code (and,
// in the home region, the member template), readable by the
// organization's principals and no one else's. With aws:PrincipalOrgID the
// policy is not public, by AWS's meaning and by bucketguard's judge, and
// Block Public Access stays all on.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
func newAssetsStack(app constructs.Construct, id string, env *awscdk.Environment) awscdk.Stack {
	stack := awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{Env: env,
		Description: jsii.String("bucketguard organization: the asset bucket of one region (the member stacks' code)")})
	orgID := awscdk.NewCfnParameter(stack, jsii.String("OrganizationId"), &awscdk.CfnParameterProps{Type: jsii.String("String"),
		AllowedPattern: jsii.String(`^o-[a-z0-9]{10,32}$`), Description: jsii.String("the organization's id: its accounts may read the assets")})
	bucket := awss3.NewBucket(stack, jsii.String("Bucket"), &awss3.BucketProps{
		// Named: each member stack finds its region's bucket by name.
		BucketName:        awscdk.Fn_Sub(jsii.String(contract.AssetBucketPrefix+"-${AWS::AccountId}-${AWS::Region}"), nil),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OrganizationReadsAssets"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources:  jsii.Strings(*bucket.ArnForObjects(jsii.String("*"))),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": orgID.ValueAsString()}},
	}))
	suppress(bucket, "AwsSolutions-S1", "the bucket holds only the published function bundles and member template, written by the release step; versioning keeps every one")
	awscdk.NewCfnOutput(stack, jsii.String("AssetBucket"), &awscdk.CfnOutputProps{Value: bucket.BucketName(),
		Description: jsii.String("publish remediate.zip, sweep.zip (and, in the home region, " + MemberTemplateFile + ") under the key prefix")})
	return stack
}

// newHeartbeats is the central bus the members put their sweeps'
// heartbeats and their outcomes on (any principal of the organization, and
// no other), the archive of the outcomes, and the table of the latest heartbeat per account and region, written by an
// express state machine with no code: the event's account is EventBridge's
// own (the sender's), not what the member says.
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html
func newHeartbeats(scope constructs.Construct, id string, orgID awscdk.CfnParameter) (awsevents.EventBus, awsdynamodb.Table) {
	c := constructs.NewConstruct(scope, &id)
	bus := awsevents.NewEventBus(c, jsii.String("Bus"), &awsevents.EventBusProps{
		Description: jsii.String("bucketguard: heartbeats and outcomes of every member's sweep"),
	})
	bus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OrganizationPutsHeartbeats"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("events:PutEvents"),
		Resources:  &[]*string{bus.EventBusArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": orgID.ValueAsString()}},
	}))
	table := awsdynamodb.NewTable(c, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:  &awsdynamodb.Attribute{Name: jsii.String(contract.HeartbeatKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:   awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:    awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	suppress(table, "AwsSolutions-DDB3", "the latest heartbeat of each account and region: the next sweep writes it again, nothing to recover to a point in time")
	str := func(path string) awsstepfunctionstasks.DynamoAttributeValue {
		return awsstepfunctionstasks.DynamoAttributeValue_FromString(awsstepfunctions.JsonPath_StringAt(jsii.String(path)))
	}
	put := awsstepfunctionstasks.NewDynamoPutItem(c, jsii.String("Put"), &awsstepfunctionstasks.DynamoPutItemProps{
		Table: table,
		Item: &map[string]awsstepfunctionstasks.DynamoAttributeValue{
			contract.HeartbeatKey: awsstepfunctionstasks.DynamoAttributeValue_FromString(awsstepfunctions.JsonPath_Format(jsii.String("{}/{}"),
				awsstepfunctions.JsonPath_StringAt(jsii.String("$.account")), awsstepfunctions.JsonPath_StringAt(jsii.String("$.detail.region")))),
			contract.HeartbeatAt:      str("$.time"),
			contract.HeartbeatAccount: str("$.account"),
			contract.HeartbeatRegion:  str("$.detail.region"),
			contract.HeartbeatDetail: awsstepfunctionstasks.DynamoAttributeValue_FromString(awsstepfunctions.JsonPath_JsonToString(
				awsstepfunctions.JsonPath_ObjectAt(jsii.String("$.detail")))),
		},
	})
	logs := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{Retention: awslogs.RetentionDays_ONE_MONTH})
	machine := awsstepfunctions.NewStateMachine(c, jsii.String("Writer"), &awsstepfunctions.StateMachineProps{
		StateMachineType: awsstepfunctions.StateMachineType_EXPRESS,
		DefinitionBody:   awsstepfunctions.DefinitionBody_FromChainable(put),
		Logs:             &awsstepfunctions.LogOptions{Destination: logs, Level: awsstepfunctions.LogLevel_ERROR},
	})
	suppress(machine, "AwsSolutions-SF1", "only errors are logged: logging ALL would write every heartbeat of every account and region twice")
	suppress(machine, "AwsSolutions-SF2", "one DynamoDB write a run: no trace to follow")
	suppress(machine, "AwsSolutions-IAM5", "the CloudWatch Logs delivery actions the state machine's logging needs support no resource-level permissions")
	rule := awsevents.NewRule(c, jsii.String("Rule"), &awsevents.RuleProps{
		EventBus:    bus,
		Description: jsii.String("bucketguard: each member's heartbeat into the table"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(contract.HeartbeatSource),
			DetailType: jsii.Strings(contract.HeartbeatDetailType),
		},
	})
	rule.AddTarget(awseventstargets.NewSfnStateMachine(machine, &awseventstargets.SfnStateMachineProps{RetryAttempts: jsii.Number(8)}))
	// Every member's outcomes, kept in one place for OutcomeRetentionDays;
	// the security team replays them into its own rules or SIEM, or adds
	// rules on the bus for the detail type.
	bus.Archive(jsii.String("Outcomes"), &awsevents.BaseArchiveProps{
		ArchiveName: jsii.String("bucketguard-outcomes"),
		Description: jsii.String("bucketguard: every member's outcomes (evaluations that found something)"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(contract.HeartbeatSource),
			DetailType: jsii.Strings(contract.OutcomeDetailType),
		},
		Retention: awscdk.Duration_Days(jsii.Number(OutcomeRetentionDays)),
	})
	return bus, table
}

// OutcomeRetentionDays is how long the central bus's archive keeps the
// members' outcomes.
const OutcomeRetentionDays = 90
