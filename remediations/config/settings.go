package config

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/events"
)

// The environment variables, one per setting.
const (
	EnvMode                = "BUCKETGUARD_MODE"
	EnvTopicARN            = "BUCKETGUARD_TOPIC_ARN"
	EnvSelfRoleARN         = "BUCKETGUARD_SELF_ROLE_ARN"
	EnvEncryption          = "BUCKETGUARD_ENCRYPTION"
	EnvKMSKeyARN           = "BUCKETGUARD_KMS_KEY_ARN"
	EnvAcceptedKMSKeys     = "BUCKETGUARD_ACCEPTED_KMS_KEYS"
	EnvBucketKey           = "BUCKETGUARD_BUCKET_KEY"
	EnvRequireTLS          = "BUCKETGUARD_REQUIRE_TLS"
	EnvEnforceVersioning   = "BUCKETGUARD_ENFORCE_VERSIONING"
	EnvAccessLogBucket     = "BUCKETGUARD_ACCESS_LOG_BUCKET"
	EnvAccessLogPrefix     = "BUCKETGUARD_ACCESS_LOG_PREFIX"
	EnvEnforceOwnership    = "BUCKETGUARD_ENFORCE_OWNERSHIP"
	EnvEnforceAccountBPA   = "BUCKETGUARD_ENFORCE_ACCOUNT_BPA"
	EnvApprovalTagKey      = "BUCKETGUARD_APPROVAL_TAG_KEY"
	EnvApprovalUntilTagKey = "BUCKETGUARD_APPROVAL_UNTIL_TAG_KEY"
	EnvOwnerTagKey         = "BUCKETGUARD_OWNER_TAG_KEY"
	EnvFallbackQueueURL    = "BUCKETGUARD_ALERT_FALLBACK_QUEUE_URL"
	EnvLedgerTable         = "BUCKETGUARD_ALERT_LEDGER_TABLE"
	EnvCallTimeout         = "BUCKETGUARD_CALL_TIMEOUT"
	EnvEventAttempts       = "BUCKETGUARD_EVENT_ATTEMPTS"
	EnvSweepConcurrency    = "BUCKETGUARD_SWEEP_CONCURRENCY"
	EnvSweepMargin         = "BUCKETGUARD_SWEEP_MARGIN"
	EnvLogLevel            = "BUCKETGUARD_LOG_LEVEL"
	EnvStackRegions        = "BUCKETGUARD_STACK_REGIONS"
	EnvSecurityHub         = "BUCKETGUARD_SECURITY_HUB"
	EnvChatTopicARN        = "BUCKETGUARD_CHAT_TOPIC_ARN"
	EnvOpsTopicARN         = "BUCKETGUARD_OPS_TOPIC_ARN"
	EnvCanaryBucket        = "BUCKETGUARD_CANARY_BUCKET"
	EnvSweepFixBudget      = "BUCKETGUARD_SWEEP_FIX_BUDGET"
	EnvFightWindow         = "BUCKETGUARD_FIGHT_WINDOW"
	EnvFightThreshold      = "BUCKETGUARD_FIGHT_THRESHOLD"
	EnvSweepFunction       = "BUCKETGUARD_SWEEP_FUNCTION"
	EnvHeartbeatBus        = "BUCKETGUARD_HEARTBEAT_BUS"
)

// Setting describes one setting, for the docs, --help and the CDK app.
type Setting struct {
	Env string
	// Context is the CDK context key that sets it for the deployed
	// functions; empty when the stack fills it in itself (the topic, the
	// roles, the queue, the table) or it is for the CLI alone.
	Context string
	Default string
	Meaning string
	// Field is the Config field it sets.
	Field string
}

// entry is a Setting with its parser and its printer.
type entry struct {
	Setting
	raw    bool                             // not trimmed (a prefix may end in a space)
	parse  func(c *Config, v string) string // "" when v is good
	format func(c Config) string            // the variable's value for c
}

var (
	topicRE    = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
	kmsAliasRE = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:alias/[A-Za-z0-9/_-]{1,256}$`)
	kmsKeyRE   = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(mrk-)?[0-9a-fA-F-]{32,36}$`)
	tableRE    = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	busRE      = regexp.MustCompile(`^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._/-]{1,256}$`)
	functionRE = regexp.MustCompile(`^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:)?[A-Za-z0-9_-]{1,64}$`)
	queueRE    = regexp.MustCompile(`^https?://[A-Za-z0-9.:-]+/[0-9]{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$`)
)

// table is the one list of settings, in the docs' order.
var table = []entry{
	{Setting: Setting{Env: EnvMode, Context: "mode", Field: "Mode", Meaning: "`enforce` fixes and alerts; `notify` only alerts"},
		parse: func(c *Config, v string) string {
			if m := Mode(v); m == Enforce || m == Notify {
				c.Mode = m
				return ""
			}
			return "is not enforce|notify"
		}, format: func(c Config) string { return string(c.Mode) }},
	{Setting: Setting{Env: EnvTopicARN, Field: "TopicARN", Meaning: "SNS topic for alerts (required by the Lambda)"},
		parse:  match(topicRE, "is not an SNS topic ARN", func(c *Config) *string { return &c.TopicARN }),
		format: func(c Config) string { return c.TopicARN }},
	{Setting: Setting{Env: EnvSelfRoleARN, Field: "SelfRoleARN", Meaning: "bucketguard's own role ARNs, comma-separated; their changes are skipped (required by the Lambda)"},
		parse: func(c *Config, v string) string {
			r, err := events.ParseRoles(v)
			c.SelfRoleARN, c.SelfRoles = v, r
			if err != nil || len(r) == 0 {
				return "is not a comma-separated list of IAM role ARNs"
			}
			return ""
		}, format: func(c Config) string { return c.SelfRoleARN }},
	{Setting: Setting{Env: EnvEncryption, Context: "encryption", Field: "Encryption", Meaning: "default encryption to restore: `sse-s3` or `sse-kms`"},
		parse: func(c *Config, v string) string {
			if e := Encryption(v); e == SSES3 || e == SSEKMS {
				c.Encryption = e
				return ""
			}
			return "is not sse-s3|sse-kms"
		}, format: func(c Config) string { return string(c.Encryption) }},
	{Setting: Setting{Env: EnvKMSKeyARN, Context: "kmsKeyArn", Field: "KMSKeyARN", Meaning: "KMS key ARN for `sse-kms` (required with it)"},
		parse:  match(kmsKeyRE, "is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>; aliases are not accepted)", func(c *Config) *string { return &c.KMSKeyARN }),
		format: func(c Config) string { return c.KMSKeyARN }},
	{Setting: Setting{Env: EnvAcceptedKMSKeys, Context: "acceptedKmsKeys", Field: "AcceptedKMSKeys",
		Meaning: "with `sse-kms`: the other KMS key ARNs a bucket may use, comma-separated. Unset, a bucket's own same-account key is kept (reported, low) and another account's key is reported (high); set, any key not listed (nor the configured one) is replaced"},
		parse: func(c *Config, v string) string {
			c.AcceptedKMSKeys = nil
			for _, k := range strings.Split(v, ",") {
				k = strings.TrimSpace(k)
				if !kmsKeyRE.MatchString(k) && !kmsAliasRE.MatchString(k) {
					return "is not a comma-separated list of KMS key or alias ARNs (arn:aws:kms:<region>:<account>:key/<id> or :alias/<name>)"
				}
				c.AcceptedKMSKeys = append(c.AcceptedKMSKeys, k)
			}
			return ""
		}, format: func(c Config) string { return strings.Join(c.AcceptedKMSKeys, ",") }},
	boolean(EnvBucketKey, "bucketKey", "BucketKey", "S3 Bucket Key with `sse-kms`", func(c *Config) *bool { return &c.BucketKey }),
	boolean(EnvRequireTLS, "requireTls", "RequireTLS", "keep a Deny on aws:SecureTransport=false in every bucket policy", func(c *Config) *bool { return &c.RequireTLS }),
	boolean(EnvEnforceVersioning, "enforceVersioning", "EnforceVersioning", "turn versioning on", func(c *Config) *bool { return &c.EnforceVersioning }),
	{Setting: Setting{Env: EnvAccessLogBucket, Context: "accessLogBucket", Field: "AccessLogBucket", Meaning: "turn server access logging on, to this bucket"},
		parse: func(c *Config, v string) string {
			c.AccessLogBucket = v
			if !events.ValidBucketName(v) {
				return "is not a bucket name"
			}
			return ""
		}, format: func(c Config) string { return c.AccessLogBucket }},
	{Setting: Setting{Env: EnvAccessLogPrefix, Context: "accessLogPrefix", Field: "AccessLogPrefix", Meaning: "prefix for access logs; the bucket name and `/` are appended"}, raw: true,
		parse: func(c *Config, v string) string {
			c.AccessLogPrefix = v
			if len(v) > 512 {
				return "is longer than 512 characters"
			}
			return ""
		}, format: func(c Config) string { return c.AccessLogPrefix }},
	boolean(EnvEnforceOwnership, "enforceOwnership", "EnforceOwnership", "set Object Ownership to BucketOwnerEnforced (ACLs off)", func(c *Config) *bool { return &c.EnforceOwnership }),
	boolean(EnvEnforceAccountBPA, "enforceAccountBlockPublicAccess", "EnforceAccountBPA", "turn on all four account-level Block Public Access settings", func(c *Config) *bool { return &c.EnforceAccountBPA }),
	tagKey(EnvApprovalTagKey, "approvalTagKey", "ApprovalTagKey", "tag that approves public read (value `true`)", func(c *Config) *string { return &c.ApprovalTagKey }),
	tagKey(EnvApprovalUntilTagKey, "approvalUntilTagKey", "ApprovalUntilTagKey", "optional RFC 3339 expiry of the approval", func(c *Config) *string { return &c.ApprovalUntilTagKey }),
	tagKey(EnvOwnerTagKey, "ownerTagKey", "OwnerTagKey", "tag naming the bucket's owner; sent as the `owner` message attribute", func(c *Config) *string { return &c.OwnerTagKey }),
	{Setting: Setting{Env: EnvFallbackQueueURL, Field: "FallbackQueueURL", Meaning: "SQS queue for alerts SNS would not take"},
		parse:  match(queueRE, "is not an SQS queue URL", func(c *Config) *string { return &c.FallbackQueueURL }),
		format: func(c Config) string { return c.FallbackQueueURL }},
	{Setting: Setting{Env: EnvLedgerTable, Field: "LedgerTable", Meaning: "DynamoDB table (key `pk`, TTL `expires`) that stops a redelivered event from alerting twice"},
		parse:  match(tableRE, "is not a DynamoDB table name", func(c *Config) *string { return &c.LedgerTable }),
		format: func(c Config) string { return c.LedgerTable }},
	duration(EnvCallTimeout, "", "CallTimeout", "bound on each attempt of every AWS call; the time kept for the read-back and the alert is derived from it (one and three bounds)",
		200*time.Millisecond, 30*time.Second, func(c *Config) *time.Duration { return &c.CallTimeout }),
	{Setting: Setting{Env: EnvEventAttempts, Field: "EventAttempts", Meaning: "how many times Lambda runs a failing event, one and its retries (set by the stack); the last attempt always alerts"},
		parse: func(c *Config, v string) string {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 3 {
				return "is not a whole number from 1 to 3"
			}
			c.EventAttempts = n
			return ""
		}, format: func(c Config) string { return strconv.Itoa(c.EventAttempts) }},
	{Setting: Setting{Env: EnvSweepConcurrency, Context: "sweepConcurrency", Field: "SweepConcurrency", Meaning: "buckets a sweep evaluates at once (1 to 64: a Lambda environment has 1,024 file descriptors)"},
		parse: func(c *Config, v string) string {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxSweepConcurrency {
				return "is not a whole number from 1 to " + strconv.Itoa(MaxSweepConcurrency)
			}
			c.SweepConcurrency = n
			return ""
		}, format: func(c Config) string { return strconv.Itoa(c.SweepConcurrency) }},
	{Setting: Setting{Env: EnvSweepFixBudget, Context: "sweepFixBudget", Field: "SweepFixBudget",
		Meaning: "buckets one sweep run may fix, the most severe first (0 to 10000; 0 fixes none); the rest are reported, and the operations topic is told that the budget held. Event-driven fixes are never budgeted"},
		parse: func(c *Config, v string) string {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 10000 {
				return "is not a whole number from 0 to 10000"
			}
			c.SweepFixBudget = n
			return ""
		}, format: func(c Config) string { return strconv.Itoa(c.SweepFixBudget) }},
	duration(EnvFightWindow, "fightWindow", "FightWindow", "window in which fixes of the same setting of one bucket are counted as a fight (someone putting it back)",
		time.Minute, 24*time.Hour, func(c *Config) *time.Duration { return &c.FightWindow }),
	{Setting: Setting{Env: EnvFightThreshold, Context: "fightThreshold", Field: "FightThreshold",
		Meaning: "fixes of the same setting of one bucket within the window that make a fight, told once per window to the operations topic (2 to 100)"},
		parse: func(c *Config, v string) string {
			n, err := strconv.Atoi(v)
			if err != nil || n < 2 || n > 100 {
				return "is not a whole number from 2 to 100"
			}
			c.FightThreshold = n
			return ""
		}, format: func(c Config) string { return strconv.Itoa(c.FightThreshold) }},
	{Setting: Setting{Env: EnvCanaryBucket, Field: "CanaryBucket", Meaning: "the canary's bucket: the remediate function times each canary change it receives (set by the stack)"},
		parse: func(c *Config, v string) string {
			if !events.ValidBucketName(v) {
				return "is not a bucket name"
			}
			c.CanaryBucket = v
			return ""
		}, format: func(c Config) string { return c.CanaryBucket }},
	{Setting: Setting{Env: EnvOpsTopicARN, Field: "OpsTopicARN", Meaning: "SNS topic of the operations team: fights, a sweep's budget that held (set by the stack)"},
		parse: func(c *Config, v string) string {
			if !strings.HasPrefix(v, "arn:") {
				return "is not an SNS topic ARN"
			}
			c.OpsTopicARN = v
			return ""
		}, format: func(c Config) string { return c.OpsTopicARN }},
	{Setting: Setting{Env: EnvSweepFunction, Field: "SweepFunction", Meaning: "the sweep function the remediate function starts at once after a guarded call (a call that may blind or disarm bucketguard), at most one running (set by the stack)"},
		parse:  match(functionRE, "is not a Lambda function name or ARN", func(c *Config) *string { return &c.SweepFunction }),
		format: func(c Config) string { return c.SweepFunction }},
	{Setting: Setting{Env: EnvHeartbeatBus, Context: "heartbeatBus", Field: "HeartbeatBus", Meaning: "the organization's central event bus (its ARN, the admin stack's `HeartbeatBusArn`): the sweep puts its heartbeat there after each run (for `bucketguard coverage`), and both functions put the outcome of each evaluation that found something ([organization](organization.md)); unset sends none"},
		parse:  match(busRE, "is not an EventBridge event bus ARN", func(c *Config) *string { return &c.HeartbeatBus }),
		format: func(c Config) string { return c.HeartbeatBus }},
	duration(EnvSweepMargin, "", "SweepMargin", "time that must remain before the sweep's deadline to start another bucket",
		10*time.Second, 10*time.Minute, func(c *Config) *time.Duration { return &c.SweepMargin }),
	{Setting: Setting{Env: EnvStackRegions, Field: "StackRegions", Meaning: "the regions where a stack is deployed, comma-separated, the first being home: its sweep also evaluates the account's Block Public Access and Multi-Region Access Points, and counts the buckets in regions without a stack (set by the stack)"},
		parse: func(c *Config, v string) string {
			c.StackRegions = nil
			for _, r := range strings.Split(v, ",") {
				r = strings.TrimSpace(r)
				if !events.ValidRegion(r) || slices.Contains(c.StackRegions, r) {
					return "is not a comma-separated list of distinct region names"
				}
				c.StackRegions = append(c.StackRegions, r)
			}
			return ""
		}, format: func(c Config) string { return strings.Join(c.StackRegions, ",") }},
	{Setting: Setting{Env: EnvSecurityHub, Context: "securityHub", Field: "SecurityHub",
		Meaning: "`on` keeps one AWS Security Hub finding per bucket or access point and kind of exposure, in the account's own product (`off` by default; `true`/`false` too)"},
		parse: func(c *Config, v string) string {
			switch strings.ToLower(v) {
			case "on":
				c.SecurityHub = true
				return ""
			case "off":
				c.SecurityHub = false
				return ""
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return "is not on|off"
			}
			c.SecurityHub = b
			return ""
		}, format: func(c Config) string { return strconv.FormatBool(c.SecurityHub) }},
	{Setting: Setting{Env: EnvChatTopicARN, Field: "ChatTopicARN", Meaning: "SNS topic for chat notifications in the custom format of Amazon Q Developer in chat applications (set by the stack with the `chatTopic` context key)"},
		parse:  match(topicRE, "is not an SNS topic ARN", func(c *Config) *string { return &c.ChatTopicARN }),
		format: func(c Config) string { return c.ChatTopicARN }},
	{Setting: Setting{Env: EnvLogLevel, Context: "logLevel", Field: "LogLevel", Meaning: "`debug`, `info`, `warn` or `error`"},
		parse: func(c *Config, v string) string {
			switch strings.ToLower(v) {
			case "debug", "info", "warn", "error":
				_ = c.LogLevel.UnmarshalText([]byte(v))
				return ""
			}
			return "is not debug|info|warn|error"
		}, format: func(c Config) string { return strings.ToLower(c.LogLevel.String()) }},
}

func match(re *regexp.Regexp, why string, field func(*Config) *string) func(*Config, string) string {
	return func(c *Config, v string) string {
		*field(c) = v
		if !re.MatchString(v) {
			return why
		}
		return ""
	}
}

func boolean(env, ctx, field, meaning string, dst func(*Config) *bool) entry {
	return entry{Setting: Setting{Env: env, Context: ctx, Field: field, Meaning: meaning},
		parse: func(c *Config, v string) string {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return "is not true or false"
			}
			*dst(c) = b
			return ""
		},
		format: func(c Config) string { return strconv.FormatBool(*dst(&c)) }}
}

// tagKey checks S3's tag key rules: 1 to 128 Unicode characters, not
// starting with the reserved "aws:".
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-managing.html
func tagKey(env, ctx, field, meaning string, dst func(*Config) *string) entry {
	return entry{Setting: Setting{Env: env, Context: ctx, Field: field, Meaning: meaning},
		parse: func(c *Config, v string) string {
			*dst(c) = v
			switch {
			case len([]rune(v)) > 128:
				return "is longer than 128 characters"
			case strings.HasPrefix(strings.ToLower(v), "aws:"):
				return "starts with the reserved prefix aws:"
			}
			return ""
		},
		format: func(c Config) string { return *dst(&c) }}
}

func duration(env, ctx, field, meaning string, lo, hi time.Duration, dst func(*Config) *time.Duration) entry {
	return entry{Setting: Setting{Env: env, Context: ctx, Field: field, Meaning: meaning},
		parse: func(c *Config, v string) string {
			d, err := time.ParseDuration(v)
			if err != nil || d < lo || d > hi {
				return "is not a duration from " + lo.String() + " to " + hi.String()
			}
			*dst(c) = d
			return ""
		},
		format: func(c Config) string { return dst(&c).String() }}
}

// Settings lists every setting with its default, in the docs' order.
func Settings() []Setting {
	d := Default()
	out := make([]Setting, len(table))
	for i, e := range table {
		out[i] = e.Setting
		out[i].Default = e.format(d)
	}
	return out
}

// setting returns the Setting of an environment variable.
func setting(env string) Setting {
	for _, e := range table {
		if e.Env == env {
			return e.Setting
		}
	}
	return Setting{Env: env}
}
