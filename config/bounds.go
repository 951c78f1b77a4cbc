package config

import (
	"fmt"
	"strings"
	"time"
)

// The agent's own bounds that no key sets (guest/agent.sh).
const (
	versionHookBound = 60 * time.Second // hook_output version 60
	artifactsMount   = 30 * time.Second // mount_artifacts: 30 tries, a second apart
	apiAttemptExtra  = 5 * time.Second  // each attempt: apiTimeout + 5, then a 1 s pause
	apiPause         = time.Second
)

// bootAllowance is what a collectDeadline left unset adds to the phases'
// bounds for the guest's boot and cloud-init, which nothing bounds: a few
// minutes under software emulation.
const bootAllowance = 10 * time.Minute

// phaseBound is one phase of the agent and the longest it may take.
type phaseBound struct {
	what string // the keys that bound it, as the refusal names them
	d    time.Duration
}

// agentPhases are the phases the agent of a system (a name of
// footprint:profiles) runs, in its order (guest/agent.sh, measure), each
// with its bound: install, ready, version, settle, idle samples, then,
// with a workload, the workload's start and its readiness (workloadTimeout
// each), settle, samples and the API probe; last, with footprint:soak,
// the soak. A phase whose hook the profile
// lacks is skipped by the agent and counts nothing.
func (e Experiment) agentPhases(name string, src Source) []phaseBound {
	profile := e.ProfileOf(name)
	has := hookSet(profile, src)
	var ps []phaseBound
	add := func(ok bool, what string, d time.Duration) {
		if ok {
			ps = append(ps, phaseBound{what, d})
		}
	}
	switch {
	case e.Preinstalled[profile]:
		add(has("configure") && len(e.OptionsOf(name)) > 0, KeyInstallTimeout, e.InstallTimeout)
	case e.Artifacts[profile] != "":
		add(has("installOffline"), KeyInstallTimeout, e.InstallTimeout+artifactsMount)
	default:
		add(has("install"), KeyInstallTimeout, e.InstallTimeout)
	}
	add(has("ready"), KeyReadyTimeout, e.ReadyTimeout)
	add(has("version"), "the version hook", versionHookBound)
	ps = append(ps, e.measured()...)
	if !has("workload") {
		return append(ps, e.soak()...)
	}
	add(true, KeyWorkloadTimeout, e.WorkloadTimeout)
	add(has("workloadReady"), KeyWorkloadTimeout, e.WorkloadTimeout)
	ps = append(ps, e.measured()...)
	api := time.Duration(e.APIAttempts)*(e.APITimeout+apiAttemptExtra) + time.Duration(e.APIAttempts-1)*apiPause
	add(has("api"), KeyAPIAttempts+" × "+KeyAPITimeout, api)
	return append(ps, e.soak()...)
}

// soak is the soak after the last measured phase, when the stack sets one:
// the agent ends it on time (its last sleep is cut to what is left).
func (e Experiment) soak() []phaseBound {
	if e.Soak <= 0 {
		return nil
	}
	return []phaseBound{{KeySoak, e.Soak}}
}

// measured are the settle and the samples of one measured phase.
func (e Experiment) measured() []phaseBound {
	settle := phaseBound{KeySettle, e.Settle}
	if e.SettleToleranceMiB > 0 {
		settle = phaseBound{KeySettle + " + " + KeySettleMax, e.Settle + e.SettleMax}
	}
	return []phaseBound{settle, {KeySamples + " × " + KeySampleInterval, time.Duration(e.Samples) * e.SampleInterval}}
}

// hookSet tells the hooks a profile has; with none known, every one.
func hookSet(profile string, src Source) func(string) bool {
	if src.ProfileHooks == nil {
		return func(string) bool { return true }
	}
	hooks := map[string]bool{}
	for _, h := range src.ProfileHooks(profile) {
		hooks[h] = true
	}
	return func(h string) bool { return hooks[h] }
}

// longestAgent is the system whose agent may take longest by the stack's
// bounds, and its phases.
func (e Experiment) longestAgent(src Source) (string, []phaseBound, time.Duration) {
	var name string
	var phases []phaseBound
	var longest time.Duration
	for _, n := range e.Profiles {
		ps := e.agentPhases(n, src)
		if d := total(ps); name == "" || d > longest {
			name, phases, longest = n, ps, d
		}
	}
	return name, phases, longest
}

func total(ps []phaseBound) time.Duration {
	var d time.Duration
	for _, p := range ps {
		d += p.d
	}
	return d
}

// checkDeadline refuses a collectDeadline that the agent's phases may
// outlast: the collector would give up on a node whose agent is still
// within every bound it was given, and its result would be lost. Left
// unset, the deadline is those bounds plus bootAllowance.
func (e *Experiment) checkDeadline(src Source, values map[string]string) error {
	name, phases, need := e.longestAgent(src)
	if _, set := values[KeyCollectDeadline]; !set {
		e.CollectDeadline = need + bootAllowance
		return nil
	}
	if e.CollectDeadline > need {
		return nil
	}
	what := make([]string, len(phases))
	for i, p := range phases {
		what[i] = fmt.Sprintf("%s %s", p.what, p.d)
	}
	return fmt.Errorf("%s:%s: %s is not longer than the agent of %s may take within its bounds (%s: %s); raise it, lower those, or leave it out (their sum plus %s)",
		Namespace, KeyCollectDeadline, e.CollectDeadline, name, need, strings.Join(what, " + "), bootAllowance)
}
