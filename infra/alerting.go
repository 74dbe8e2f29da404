package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AlertingProps configures who receives alerts.
type AlertingProps struct {
	AlertEmails []string
	// OwnerRoutes sends an owner's alerts to its addresses, filtered on the
	// message attribute `owner`.
	OwnerRoutes map[string][]string
	// ChatTopic adds the chat topic.
	ChatTopic bool
	// NoKey leaves out the customer managed key ($1.00 a month per account
	// and region): the alert topic and the chat topic use the AWS managed
	// key for SNS (alias/aws/sns), the undelivered-alerts queue SQS-managed
	// keys. Alerting.Key is then nil, and the operations topic, which
	// CloudWatch alarms and EventBridge publish to, is left unencrypted: an
	// AWS managed key's policy cannot be changed to let them.
	// https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
	NoKey bool
}

// Alerting is the encrypted alert topic, its subscriptions, and the queue
// that keeps alerts SNS refused.
type Alerting struct {
	constructs.Construct
	// Key encrypts the topic and every queue of the stack; nil with NoKey.
	Key   awskms.Key
	Topic awssns.Topic
	// Undelivered holds alerts that could not be published.
	Undelivered awssqs.Queue
	// Ledger remembers the alerts sent per event, for a day.
	Ledger awsdynamodb.Table
	// ChatTopic carries chat notifications, when asked for; nil otherwise.
	ChatTopic awssns.Topic
}

// NewAlerting builds the alert topic with a customer-managed key (rotated),
// a TLS-only topic policy, and e-mail subscriptions.
func NewAlerting(scope constructs.Construct, id string, props *AlertingProps) *Alerting {
	c := constructs.NewConstruct(scope, &id)
	if props.NoKey {
		return newAlerting(c, props, nil, awskms.Alias_FromAliasName(c, jsii.String("SNSManagedKey"), jsii.String("alias/aws/sns")))
	}
	key := awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("bucketguard: alerts and queues"),
		EnableKeyRotation: jsii.Bool(true),
	})
	// CloudWatch alarms publish to the encrypted operations topic.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublishToOpsTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
	}), jsii.Bool(true))
	// The watchdog's rules publish to the encrypted operations topic:
	// EventBridge needs the key to, as CloudWatch does.
	// https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("EventBridgePublishesToOpsTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
	}), jsii.Bool(true))
	return newAlerting(c, props, key, key)
}

// newAlerting builds the topics, the queue and the ledger; key is the
// customer managed key (nil for none), topicKey what encrypts the topics.
func newAlerting(c constructs.Construct, props *AlertingProps, key awskms.Key, topicKey awskms.IKey) *Alerting {
	topic := awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String("bucketguard"),
		MasterKey:   topicKey,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, e := range props.AlertEmails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	for _, owner := range sortedKeys(props.OwnerRoutes) {
		for _, e := range props.OwnerRoutes[owner] {
			topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), &awssnssubscriptions.EmailSubscriptionProps{
				FilterPolicy: &map[string]awssns.SubscriptionFilter{
					"owner": awssns.SubscriptionFilter_StringFilter(&awssns.StringConditions{Allowlist: jsii.Strings(owner)}),
				},
			}))
		}
	}
	var queueKey awskms.IKey
	if key != nil {
		queueKey = key
	}
	undelivered := encryptedQueue(c, "Undelivered", queueKey)
	// EventBridge and Lambda deliver at least once: the ledger keeps a
	// redelivered event from alerting twice. Items expire after a day.
	ledger := awsdynamodb.NewTable(c, jsii.String("Ledger"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String("expires"),
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:       awscdk.RemovalPolicy_DESTROY,
	})
	suppress(ledger, "AwsSolutions-DDB3", "idempotency records that expire after a day: nothing to recover to a point in time")
	a := &Alerting{Construct: c, Key: key, Topic: topic, Undelivered: undelivered, Ledger: ledger}
	if props.ChatTopic {
		// Mapped to a channel in Amazon Q Developer in chat applications,
		// which reads the custom notification format (package chat).
		// https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
		a.ChatTopic = awssns.NewTopic(c, jsii.String("ChatTopic"), &awssns.TopicProps{
			DisplayName: jsii.String("bucketguard chat"),
			MasterKey:   topicKey,
			EnforceSSL:  jsii.Bool(true),
		})
	}
	return a
}

// encryptedQueue is a TLS-only queue that keeps messages for the 14 days SQS
// allows, encrypted with key, or with SQS-managed keys when key is nil (the
// queues that hold only CloudTrail events, which EventBridge and Lambda then
// write without a key policy).
func encryptedQueue(scope constructs.Construct, id string, key awskms.IKey) awssqs.Queue {
	props := &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	}
	if key != nil {
		props.Encryption, props.EncryptionMasterKey = awssqs.QueueEncryption_KMS, key
	}
	q := awssqs.NewQueue(scope, jsii.String(id), props)
	suppress(q, "AwsSolutions-SQS3", "this queue is itself a dead-letter store: failed events and undelivered alerts land here, and an alarm watches it")
	return q
}
