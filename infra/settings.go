package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bucketguard/bucketguard/remediations/config"
)

// Settings is the app's configuration, parsed once from CDK context.
type Settings struct {
	// Regions gets one stack each.
	Regions []string
	// Account pins the stacks to an account; empty leaves them account-agnostic.
	Account string
	// Engine is the remediation configuration the functions run with. The
	// stack fills in the topic, the role and the fallback queue.
	Engine      config.Config
	AlertEmails []string
	// OwnerRoutes sends each owner's alerts (owner tag value) to its e-mails.
	OwnerRoutes map[string][]string
	OpsEmails   []string
	CreateTrail bool
	// LogRetentionDays is how long the functions' logs are kept.
	LogRetentionDays int
	// NoInvocationsAlarmHours raises an alarm when the remediate function
	// has not run for that long; 0 turns the alarm off.
	NoInvocationsAlarmHours int
	// SweepSchedule is an EventBridge schedule expression for the sweep, or
	// "off".
	SweepSchedule string
	// RemediateConcurrency is the remediate function's reserved
	// concurrency; 0 leaves it unreserved.
	RemediateConcurrency int
	// ChatTopic adds a topic for chat notifications (Amazon Q Developer in
	// chat applications custom notifications), to map to a channel.
	ChatTopic bool
	// CanarySchedule is how often the canary makes its change, or "off".
	CanarySchedule string
	// CanaryAlarmHours is how long without a canary arriving raises the
	// alarm.
	CanaryAlarmHours int
	// Dashboard adds the CloudWatch dashboard.
	Dashboard bool
}

// DefaultRemediateConcurrency bounds the remediate function: at about 0.1 to
// 0.3 s an event, ten at once handle 30 to 100 events a second, far above
// what an account's buckets change, and cap what a flood of cheap changes
// (a tag cycled on many buckets) can take from the account's concurrency
// and S3's control-plane rate. Events beyond it wait in the function's
// asynchronous queue, retried for up to six hours.
const DefaultRemediateConcurrency = 10

// ContextKey documents one context key.
type ContextKey struct {
	Key, Default, Meaning string
}

// ContextKeys lists every context key the app reads.
func ContextKeys() []ContextKey {
	keys := []ContextKey{
		{"regions", "CDK_DEFAULT_REGION", "regions to deploy to, one stack each (list or comma-separated)"},
		{"account", "CDK_DEFAULT_ACCOUNT", "account to pin the stacks to (12 digits); unset leaves them account-agnostic"},
		{"alertEmails", "", "e-mail addresses that get every alert"},
		{"ownerRoutes", "", "owner tag value → e-mail address(es); delivered with an SNS filter policy on the `owner` attribute"},
		{"opsEmails", "", "e-mail addresses for the operations alarms"},
		{"createTrail", "false", "create a multi-region CloudTrail trail (in the first region); otherwise one must exist"},
		{"logRetentionDays", "90", "retention of the functions' log groups (a CloudWatch Logs value)"},
		{"noInvocationsAlarmHours", "0", "alarm when the remediate function has not run for this many hours; 0 is off"},
		{"sweepSchedule", "rate(1 day)", "EventBridge schedule of the sweep, or `off`"},
		{"canarySchedule", "rate(1 hour)", "EventBridge Scheduler schedule of the canary's harmless change, or `off` ([self-defence](selfdefense.md))"},
		{"canaryAlarmHours", "2", "alarm when no canary has arrived for this many hours (1 to 24)"},
		{"dashboard", "false", "add the CloudWatch dashboard ($3 a month beyond an account's first three: [cost](cost.md))"},
		{"chatTopic", "false", "add a topic carrying each alert as an Amazon Q Developer in chat applications custom notification; map it to a Slack or Teams channel ([findings](findings.md))"},
		{"remediateConcurrency", strconv.Itoa(DefaultRemediateConcurrency), "reserved concurrency of the remediate function (0 to 1000; 0 leaves it unreserved): events beyond it wait in the asynchronous queue, up to six hours"},
	}
	// The functions' own settings that the context sets: config's table
	// names their keys.
	for _, st := range config.Settings() {
		if st.Context != "" {
			keys = append(keys, ContextKey{st.Context, st.Default, st.Meaning})
		}
	}
	return keys
}

// retentionDays are the values CloudWatch Logs accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	regionRE   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	accountRE  = regexp.MustCompile(`^[0-9]{12}$`)
	scheduleRE = regexp.MustCompile(`^(rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\))$`)
)

// ParseSettings reads the context through get (the app's TryGetContext) and
// env (CDK_DEFAULT_REGION, CDK_DEFAULT_ACCOUNT). Every bad key is reported,
// by name, with what is allowed.
func ParseSettings(get func(string) any, env func(string) (string, bool)) (Settings, error) {
	s := Settings{LogRetentionDays: 90, SweepSchedule: "rate(1 day)", RemediateConcurrency: DefaultRemediateConcurrency,
		CanarySchedule: "rate(1 hour)", CanaryAlarmHours: 2}
	var errs []error
	bad := func(key string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("context %q: %s", key, fmt.Sprintf(format, args...)))
	}

	// Shared with the functions: parsed by config.FromEnv, one validation.
	vars := map[string]string{}
	for _, st := range config.Settings() {
		if v := get(st.Context); st.Context != "" && v != nil {
			str, err := scalar(v)
			if err != nil {
				bad(st.Context, "%v", err)
				continue
			}
			vars[st.Env] = str
		}
	}
	cfg, err := config.FromEnv(config.Lookup(vars))
	errs = append(errs, contextErrors(err)...)
	s.Engine = cfg

	s.Regions = list(get("regions"))
	if len(s.Regions) == 0 {
		if r, ok := env("CDK_DEFAULT_REGION"); ok && r != "" {
			s.Regions = []string{r}
		} else {
			bad("regions", "required: a list of regions such as [\"eu-west-1\",\"us-east-1\"] (or set CDK_DEFAULT_REGION)")
		}
	}
	seen := map[string]bool{}
	for _, r := range s.Regions {
		if !regionRE.MatchString(r) {
			bad("regions", "%q is not a region name like eu-west-1", r)
		}
		if seen[r] {
			bad("regions", "%q is listed twice", r)
		}
		seen[r] = true
	}
	if v := get("account"); v != nil {
		s.Account, _ = scalar(v)
	} else if a, ok := env("CDK_DEFAULT_ACCOUNT"); ok {
		s.Account = a
	}
	if s.Account != "" && !accountRE.MatchString(s.Account) {
		bad("account", "%q is not a 12-digit account id", s.Account)
	}

	s.AlertEmails = emails(get("alertEmails"), "alertEmails", bad)
	s.OpsEmails = emails(get("opsEmails"), "opsEmails", bad)
	s.OwnerRoutes = routes(get("ownerRoutes"), bad)

	s.CreateTrail = boolean(get("createTrail"), "createTrail", false, bad)
	if v := get("logRetentionDays"); v != nil {
		n, err := integer(v)
		if err != nil || !slices.Contains(retentionDays, n) {
			bad("logRetentionDays", "%v is not one of %v", v, retentionDays)
		} else {
			s.LogRetentionDays = n
		}
	}
	if v := get("noInvocationsAlarmHours"); v != nil {
		n, err := integer(v)
		if err != nil || n < 0 || n > 24*7 {
			bad("noInvocationsAlarmHours", "%v is not a whole number of hours from 0 (off) to 168", v)
		} else {
			s.NoInvocationsAlarmHours = n
		}
	}
	if v := get("chatTopic"); v != nil {
		str, _ := scalar(v)
		b, err := strconv.ParseBool(str)
		if err != nil {
			bad("chatTopic", "%q is not true or false", str)
		}
		s.ChatTopic = b
	}
	if v := get("remediateConcurrency"); v != nil {
		n, err := integer(v)
		if err != nil || n < 0 || n > 1000 {
			bad("remediateConcurrency", "%v is not a whole number from 0 (unreserved) to 1000", v)
		} else {
			s.RemediateConcurrency = n
		}
	}
	if v := get("sweepSchedule"); v != nil {
		str, _ := scalar(v)
		if str != "off" && !scheduleRE.MatchString(str) {
			bad("sweepSchedule", "%q is not rate(N minutes|hours|days), cron(...) or off", str)
		}
		s.SweepSchedule = str
	}
	if v := get("canarySchedule"); v != nil {
		str, _ := scalar(v)
		if str != "off" && !scheduleRE.MatchString(str) {
			bad("canarySchedule", "%q is not rate(N minutes|hours|days), cron(...) or off", str)
		}
		s.CanarySchedule = str
	}
	if v := get("canaryAlarmHours"); v != nil {
		n, err := integer(v)
		if err != nil || n < 1 || n > 24 {
			bad("canaryAlarmHours", "%v is not a whole number of hours from 1 to 24", v)
		} else {
			s.CanaryAlarmHours = n
		}
	}
	s.Dashboard = boolean(get("dashboard"), "dashboard", false, bad)
	// Every function knows where the stacks are: the first region's sweep
	// does the account-wide work.
	s.Engine.StackRegions = s.Regions
	return s, errors.Join(errs...)
}

// contextErrors names, in each of config's errors, the context keys rather
// than the environment variables.
func contextErrors(err error) []error {
	if err == nil {
		return nil
	}
	parts := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	}
	key := func(st config.Setting) string {
		if st.Context == "" {
			return st.Env
		}
		return fmt.Sprintf("context %q", st.Context)
	}
	out := make([]error, 0, len(parts))
	for _, e := range parts {
		var se *config.SettingError
		if errors.As(e, &se) {
			out = append(out, errors.New(se.Message(key)))
			continue
		}
		out = append(out, e)
	}
	return out
}

// Context values come typed from cdk.json and as strings from -c.

func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("%v is not a string, number or boolean", v)
}

func integer(v any) (int, error) {
	str, err := scalar(v)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(str)
}

func boolean(v any, key string, def bool, bad func(string, string, ...any)) bool {
	if v == nil {
		return def
	}
	str, _ := scalar(v)
	b, err := strconv.ParseBool(str)
	if err != nil {
		bad(key, "%v is not true or false", v)
		return def
	}
	return b
}

// list reads a JSON list, a JSON list in a string, or a comma-separated string.
func list(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var out []string
		for _, item := range x {
			if s, err := scalar(item); err == nil && s != "" {
				out = append(out, s)
			}
		}
		return out
	case string:
		var parsed []string
		if json.Unmarshal([]byte(x), &parsed) == nil {
			return parsed
		}
		var out []string
		for _, part := range strings.Split(x, ",") {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

func emails(v any, key string, bad func(string, string, ...any)) []string {
	out := list(v)
	for _, e := range out {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			bad(key, "%q is not an e-mail address", e)
		}
	}
	return out
}

var ownerRE = regexp.MustCompile(`^[\p{L}\p{N} _.:/=+\-@]{1,256}$`)

// routes reads {"owner": "a@x" | ["a@x", ...]}, as an object or a JSON string.
func routes(v any, bad func(string, string, ...any)) map[string][]string {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		str, _ := scalar(v)
		if json.Unmarshal([]byte(str), &m) != nil {
			bad("ownerRoutes", "must be an object of owner tag value to e-mail address(es), like {\"web-team\": \"web@example.com\"}")
			return nil
		}
	}
	out := map[string][]string{}
	owners := make([]string, 0, len(m))
	for o := range m {
		owners = append(owners, o)
	}
	sort.Strings(owners)
	for _, o := range owners {
		if !ownerRE.MatchString(o) {
			bad("ownerRoutes", "owner %q is not a valid tag value", o)
			continue
		}
		addrs := emails(m[o], "ownerRoutes", bad)
		if len(addrs) == 0 {
			bad("ownerRoutes", "owner %q has no e-mail address", o)
		}
		out[o] = addrs
	}
	return out
}
