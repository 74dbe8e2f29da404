// Package startup is what each bucketguard Lambda function (and the demo)
// does before its first event: parse the settings once, build a JSON logger,
// load the SDK clients from the standard configuration, and wire the engine
// and the alert sender from them. The functions' mains keep only what
// differs.
package startup

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	awssecurityhub "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/analyzer"
	"github.com/bucketguard/bucketguard/remediations/chat"
	"github.com/bucketguard/bucketguard/remediations/clients"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/outcome"
	"github.com/bucketguard/bucketguard/remediations/read"
	"github.com/bucketguard/bucketguard/remediations/securityhub"
)

// Kit is a started function's parts.
type Kit struct {
	Config config.Config
	Log    *slog.Logger
	AWS    clients.Set
	// Incidents runs evaluations as incidents: the engine, the alert
	// sender and the ledger.
	Incidents *incident.Protocol
	// Findings keeps the results in Security Hub; nil when it is off. The
	// sweep batches them and flushes at the end of each part.
	Findings *securityhub.Reporter
	// Central is the organization's central bus's client (outcomes, the
	// sweep's heartbeat); nil when BUCKETGUARD_HEARTBEAT_BUS is unset.
	Central outcome.Client
}

// Lambda starts the function named function. lookup reads the environment
// (os.LookupEnv). Log is set even when an error is returned, so that the
// caller can log the error in the function's JSON format before it exits.
func Lambda(ctx context.Context, function string, lookup func(string) (string, bool), logTo io.Writer) (Kit, error) {
	cfg, err := config.FromEnv(lookup)
	if err == nil {
		err = cfg.CheckLambda()
	}
	k := Kit{
		Config: cfg,
		Log:    slog.New(slog.NewJSONHandler(logTo, &slog.HandlerOptions{Level: cfg.LogLevel})).With("function", function),
	}
	if err != nil {
		return k, fmt.Errorf("settings: %w", err)
	}
	k.AWS, err = clients.Load(ctx, awsconfig.WithHTTPClient(clients.HTTPClient(cfg.CallTimeout, Conns(cfg))))
	if err != nil {
		return k, fmt.Errorf("clients: %w", err)
	}
	c := ClientsOf(cfg, k.AWS)
	k.Central = c.Central
	k.Incidents = Wire(cfg, c)
	if k.Findings = FindingsOf(k.Incidents); k.Findings != nil {
		// The event function imports beside each alert; the sweep imports
		// in batches of 100, flushed at the end of each part.
		k.Findings.Batch = function == "sweep"
	}
	return k, nil
}

// Parts wires the incident protocol from the SDK clients: the engine, the
// alert sender (topic, fallback queue) and the ledger (approvals,
// incidents, sent marks), each as configured.
func Parts(cfg config.Config, aws clients.Set) *incident.Protocol {
	return Wire(cfg, ClientsOf(cfg, aws))
}

// ClientsOf are the clients Wire takes, from the SDK's, each as configured.
func ClientsOf(cfg config.Config, aws clients.Set) Clients {
	c := Clients{S3: aws.S3, Control: aws.Control, SNS: aws.SNS, SQS: aws.SQS, Analyzer: aws.Analyzer, Region: aws.Config.Region}
	if cfg.SecurityHub {
		c.SecurityHub = awssecurityhub.NewFromConfig(aws.Config)
	}
	if cfg.LedgerTable != "" {
		c.Ledger = &ledger.Store{DB: aws.DynamoDB, Table: cfg.LedgerTable}
	}
	if cfg.HeartbeatBus != "" {
		c.Central = centralBus(aws.Config, cfg.HeartbeatBus)
	}
	return c
}

// centralBus is an EventBridge client for the organization's central bus:
// it calls the bus's region, the admin account's, which may not be the
// function's own.
func centralBus(cfg aws.Config, bus string) *eventbridge.Client {
	cfg = cfg.Copy()
	if r := contract.BusRegion(bus); r != "" {
		cfg.Region = r
	}
	return eventbridge.NewFromConfig(cfg)
}

// Ledger is what the protocol keeps in the ledger (ledger.Store).
type Ledger interface {
	remediations.Approvals
	alert.SentMarks
	incident.Store
	incident.Counter
	incident.Undos
	securityhub.Memory
}

var _ Ledger = (*ledger.Store)(nil)

// Clients are what Wire wires: the SDK's clients, or the test rig's fakes.
type Clients struct {
	S3      remediations.S3Client
	Control remediations.ControlClient
	SNS     alert.Publisher
	SQS     alert.Queue
	// Analyzer is AWS's second opinion on a policy about to be written.
	Analyzer analyzer.CheckNoPublicAccessAPIClient
	// Ledger is nil when no ledger table is configured.
	Ledger Ledger
	// SecurityHub keeps the findings when BUCKETGUARD_SECURITY_HUB is on;
	// Region is its region.
	SecurityHub securityhub.Client
	Region      string
	// Central sends outcome events to the organization's central bus
	// (BUCKETGUARD_HEARTBEAT_BUS); nil sends none.
	Central outcome.Client
}

// Wire is the one wiring of the protocol, for the functions, the demo and
// the test rigs alike.
func Wire(cfg config.Config, c Clients) *incident.Protocol {
	e := &remediations.Engine{S3: c.S3, Control: c.Control, Analyzer: c.Analyzer, Config: cfg}
	s := &alert.Sender{SNS: c.SNS, TopicARN: cfg.TopicARN, OpsTopicARN: cfg.OpsTopicARN, Fallback: c.SQS, FallbackURL: cfg.FallbackQueueURL, PublishTimeout: cfg.CallTimeout}
	p := &incident.Protocol{Engine: e, Alerts: s, CallTimeout: cfg.CallTimeout}
	if c.Ledger != nil {
		e.Approvals, s.Sent, p.Store, p.Undos = c.Ledger, c.Ledger, c.Ledger, c.Ledger
		p.Fights = &incident.Fights{Counter: c.Ledger, Window: cfg.FightWindow, Threshold: cfg.FightThreshold}
	}
	var rs Reporters
	if cfg.SecurityHub && c.SecurityHub != nil {
		sh := &securityhub.Reporter{Client: c.SecurityHub, Region: c.Region, CallTimeout: cfg.CallTimeout}
		if c.Ledger != nil {
			sh.Memory = c.Ledger
		}
		rs = append(rs, sh)
	}
	if cfg.ChatTopicARN != "" {
		cr := &chat.Reporter{SNS: c.SNS, TopicARN: cfg.ChatTopicARN}
		if c.Ledger != nil {
			cr.Sent = c.Ledger
		}
		rs = append(rs, cr)
	}
	if cfg.HeartbeatBus != "" && c.Central != nil {
		rs = append(rs, &outcome.Reporter{Client: c.Central, Bus: cfg.HeartbeatBus, CallTimeout: cfg.CallTimeout})
	}
	switch len(rs) {
	case 0:
	case 1:
		p.Reporter = rs[0]
	default:
		p.Reporter = rs
	}
	return p
}

// Reporters report each result to all of them at once.
type Reporters []incident.Reporter

// Report runs every reporter beside the others and waits for them.
func (rs Reporters) Report(ctx context.Context, res remediations.Result, log *slog.Logger) {
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Report(ctx, res, log)
		}()
	}
	wg.Wait()
}

// FindingsOf returns the protocol's Security Hub reporter, if any.
func FindingsOf(p *incident.Protocol) *securityhub.Reporter {
	switch r := p.Reporter.(type) {
	case *securityhub.Reporter:
		return r
	case Reporters:
		for _, x := range r {
			if f, ok := x.(*securityhub.Reporter); ok {
				return f
			}
		}
	}
	return nil
}

// Conns is the work a function has in flight against one host at most: each
// bucket evaluated at once sends its whole read round together (the sweep
// runs SweepConcurrency of them, the remediate function one), and an
// evaluation has at most read.MaxAccessPointReads access point reads in
// flight. The connection pool keeps that many idle connections, so that a
// warm function opens almost none.
func Conns(cfg config.Config) int {
	return max(1, cfg.SweepConcurrency)*ConnsPerBucket() + read.MaxAccessPointReads
}

// ConnsPerBucket is what one bucket's evaluation holds at once, at most:
// its whole read round with every optional control on, and the ledger's
// claim beside it and its journal beside the read again.
func ConnsPerBucket() int {
	return len(read.Needs{Bucket: true, AccountBPA: true, Versioning: true, Logging: true}.Ops()) + 2
}

// SelfSessions are the roles whose changes the remediate function skips,
// pinned to the sessions that are bucketguard's: Lambda names an execution
// role's session after the function, so its own name (lookup's
// AWS_LAMBDA_FUNCTION_NAME, set by Lambda) and the sweep function's (from
// its ARN). Outside Lambda, or with a second role and no sweep function
// named, the roles stay unpinned.
func SelfSessions(cfg config.Config, lookup func(string) (string, bool)) []events.Role {
	own, _ := lookup("AWS_LAMBDA_FUNCTION_NAME")
	if own == "" || (len(cfg.SelfRoles) > 1 && cfg.SweepFunction == "") {
		// Outside Lambda, or a second role whose function is not named:
		// pinned to the wrong names, bucketguard's own changes would come
		// back to it.
		return cfg.SelfRoles
	}
	return events.Pinned(cfg.SelfRoles, own, FunctionName(cfg.SweepFunction))
}

// FunctionName is the name in a Lambda function ARN
// (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]), or
// the argument itself when it is a bare name.
func FunctionName(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) >= 7 && parts[5] == "function" {
		return parts[6]
	}
	return arn
}
