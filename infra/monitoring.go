package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bucketguard/bucketguard/remediations/contract"
)

// Watched is one function the monitoring watches.
type Watched struct {
	Name     string
	Function awslambda.IFunction
	LogGroup awslogs.ILogGroup
	// NoInvocationsHours alarms when the function has not run for that
	// long; 0 is off.
	NoInvocationsHours int
	// EventPath marks the function events wait for: its throttling is
	// alarmed.
	EventPath bool
}

// MonitoringProps says what to watch and whom to tell.
type MonitoringProps struct {
	Key       awskms.IKey
	OpsEmails []string
	Functions []Watched
	// Queues must stay empty: failed events, dead letters, undelivered alerts.
	Queues map[string]awssqs.IQueue
	// Reports watches the reports made beside the alert (Security Hub, chat).
	Reports bool
	// CanaryAlarmHours, when above 0, alarms when no canary has arrived in
	// the remediate function's log (CanaryLog) for that long.
	CanaryAlarmHours int
	CanaryLog        awslogs.ILogGroup
	// Dashboard adds the CloudWatch dashboard.
	Dashboard bool
	// AlarmPrefix, when set, names every alarm AlarmNamePrefix(AlarmPrefix)
	// and its id, for the watchdog's alarm rule.
	AlarmPrefix string
}

// Monitoring is the operations topic, the alarms and the dashboard.
type Monitoring struct {
	constructs.Construct
	OpsTopic  awssns.Topic
	Alarms    []awscloudwatch.Alarm
	Dashboard awscloudwatch.Dashboard
}

// Namespace is the CloudWatch namespace of bucketguard's own metrics.
const Namespace = "bucketguard"

// NewMonitoring alarms on function errors and throttles, on any message in
// the failure queues, on alerts that could not be delivered, and optionally
// on silence; all to an encrypted operations topic. The dashboard shows
// evaluations by status, from the functions' JSON logs. The filter patterns
// and dimensions are built from the contract the code logs by.
func NewMonitoring(scope constructs.Construct, id string, p *MonitoringProps) *Monitoring {
	c := constructs.NewConstruct(scope, &id)
	ops := awssns.NewTopic(c, jsii.String("OpsTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("bucketguard operations"),
		MasterKey:   p.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, e := range p.OpsEmails {
		ops.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	m := &Monitoring{Construct: c, OpsTopic: ops}
	alarm := func(name string, metric awscloudwatch.IMetric, threshold float64, cmp awscloudwatch.ComparisonOperator, missing awscloudwatch.TreatMissingData, desc string) {
		var alarmName *string
		if p.AlarmPrefix != "" {
			alarmName = jsii.String(AlarmNamePrefix(p.AlarmPrefix) + name)
		}
		a := awscloudwatch.NewAlarm(c, jsii.String(name), &awscloudwatch.AlarmProps{
			AlarmName:          alarmName,
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: cmp,
			TreatMissingData:   missing,
			AlarmDescription:   jsii.String(desc),
		})
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(ops))
		m.Alarms = append(m.Alarms, a)
	}
	five := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	var widgets []awscloudwatch.IWidget
	for _, w := range p.Functions {
		alarm(w.Name+"Errors", w.Function.MetricErrors(five), 1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			awscloudwatch.TreatMissingData_NOT_BREACHING, "bucketguard "+w.Name+": the function failed (errors)")
		if w.EventPath {
			// A throttled event waits in Lambda's queue (up to six hours):
			// told at once. A throttled sweep part is retried, and one
			// that fails for good lands in its failures queue, alarmed.
			alarm(w.Name+"Throttles", w.Function.MetricThrottles(five), 1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
				awscloudwatch.TreatMissingData_NOT_BREACHING, "bucketguard "+w.Name+": the function was throttled")
		}
		if w.NoInvocationsHours > 0 {
			alarm(w.Name+"Silent", w.Function.MetricInvocations(&awscloudwatch.MetricOptions{
				Period: awscdk.Duration_Hours(jsii.Number(float64(w.NoInvocationsHours))), Statistic: jsii.String("Sum")}),
				1, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, awscloudwatch.TreatMissingData_BREACHING,
				fmt.Sprintf("bucketguard %s: no invocation for %d hours; is the trail or the rule broken?", w.Name, w.NoInvocationsHours))
		}
		// One count per bucket alert line, with the status as a dimension.
		awslogs.NewMetricFilter(c, jsii.String(w.Name+"Statuses"), &awslogs.MetricFilterProps{
			LogGroup:        w.LogGroup,
			FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(contract.AlertLines())),
			MetricNamespace: jsii.String(Namespace),
			MetricName:      jsii.String("Remediations"),
			MetricValue:     jsii.String("1"),
			Dimensions:      &map[string]*string{"Function": jsii.String(w.Name), "Status": jsii.String(contract.Selector(contract.FieldStatus))},
		})
		var byStatus []awscloudwatch.IMetric
		for _, st := range contract.Statuses() {
			if st == contract.Clean {
				continue // a clean evaluation sends no alert
			}
			byStatus = append(byStatus, awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String(Namespace), MetricName: jsii.String("Remediations"),
				DimensionsMap: &map[string]*string{"Function": jsii.String(w.Name), "Status": jsii.String(string(st))},
				Statistic:     jsii.String("Sum"), Period: awscdk.Duration_Hours(jsii.Number(1)), Label: jsii.String(string(st)),
			}))
		}
		widgets = append(widgets,
			awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(w.Name + ": evaluations by status"), Left: &byStatus, Stacked: jsii.Bool(true), Width: jsii.Number(12)}),
			awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(w.Name + ": invocations and errors"),
				Left: &[]awscloudwatch.IMetric{w.Function.MetricInvocations(five), w.Function.MetricErrors(five), w.Function.MetricThrottles(five)}, Width: jsii.Number(12)}))
	}
	// counted is one metric over every function's log lines that match a
	// pattern (no dimension: one metric, and at most one alarm).
	counted := func(name, pattern string) awscloudwatch.Metric {
		m := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(Namespace), MetricName: jsii.String(name),
			Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5))})
		for _, w := range p.Functions {
			awslogs.NewMetricFilter(c, jsii.String(w.Name+name), &awslogs.MetricFilterProps{
				LogGroup: w.LogGroup, FilterPattern: awslogs.FilterPattern_Literal(jsii.String(pattern)),
				MetricNamespace: jsii.String(Namespace), MetricName: jsii.String(name), MetricValue: jsii.String("1"),
			})
		}
		return m
	}
	// An alert that reached neither SNS nor the fallback queue (it is in
	// the log, whole).
	alarm("AlertUndelivered", counted("UndeliveredAlerts", contract.UndeliveredLines()), 1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		awscloudwatch.TreatMissingData_NOT_BREACHING, "bucketguard: an alert reached neither SNS nor the fallback queue; it is in the function's log")
	// A write made without a durable journal: until its alert is told, a
	// death of the attempt would lose the incident.
	alarm("Unjournaled", counted("Unjournaled", contract.UnjournaledLines()), 1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		awscloudwatch.TreatMissingData_NOT_BREACHING,
		"bucketguard: a fix went ahead without its journal (the ledger refused it); an attempt that died then would lose the incident's alert")
	// The same setting of a bucket fixed again and again: each fight is
	// also told to this topic by the function, naming the actor.
	alarm("Fights", counted("Fights", contract.FightLines()), 1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		awscloudwatch.TreatMissingData_NOT_BREACHING,
		"bucketguard: a bucket's setting was fixed again and again (someone or a pipeline keeps putting it back); the operations topic has the details")
	// A policy written without AWS's second opinion (IAM Access Analyzer
	// unavailable): counted, and said in each alert; no alarm.
	counted("NoSecondOpinion", contract.NoSecondOpinionLines())
	if p.Reports {
		// A report beside the alert that failed (Security Hub off or
		// refusing, a chat topic that would not take it, the central bus
		// refusing an outcome).
		alarm("ReportFailed", counted("ReportFailed", contract.ReportFailedLines()), 1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			awscloudwatch.TreatMissingData_NOT_BREACHING,
			"bucketguard: Security Hub, the chat topic or the organization's central bus refused a report (not enabled, access denied, failed findings); the e-mail alert was sent regardless")
	}
	for _, name := range sortedKeys(p.Queues) {
		q := p.Queues[name]
		alarm(name+"NotEmpty", q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")}),
			1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING,
			"bucketguard: queue "+name+" holds messages that need a look")
	}
	if p.CanaryAlarmHours > 0 && p.CanaryLog != nil {
		// Each canary's delay from its call to its arrival, in
		// milliseconds; none for the bound is the alarm: the event path
		// is broken (a trail, the rule, the function), or the canary is.
		awslogs.NewMetricFilter(c, jsii.String("CanaryDelay"), &awslogs.MetricFilterProps{
			LogGroup: p.CanaryLog, FilterPattern: awslogs.FilterPattern_Literal(jsii.String(contract.CanaryLines())),
			MetricNamespace: jsii.String(Namespace), MetricName: jsii.String("CanaryDelay"),
			MetricValue: jsii.String(contract.Selector(contract.FieldDelayMS)), Unit: awscloudwatch.Unit_MILLISECONDS,
		})
		arrivals := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(Namespace), MetricName: jsii.String("CanaryDelay"),
			Statistic: jsii.String("SampleCount"), Period: awscdk.Duration_Hours(jsii.Number(float64(p.CanaryAlarmHours)))})
		alarm("CanaryMissing", arrivals, 1, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, awscloudwatch.TreatMissingData_BREACHING,
			fmt.Sprintf("bucketguard: no canary has reached the remediate function for %d hours: the event path (trail, rule, function) or the canary is broken", p.CanaryAlarmHours))
	}
	if p.Dashboard {
		m.Dashboard = awscloudwatch.NewDashboard(c, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
			Widgets: &[]*[]awscloudwatch.IWidget{&widgets},
		})
	}
	return m
}
