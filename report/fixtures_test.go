package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// node describes a fixture node compactly; figures are MiB.
type node struct {
	name, profile string
	size, repeat  int
	idle, work    []float64
	api           results.APIVerdict // an API verdict, "" for no probe
	status        results.Status     // default ok
	version       string
	noMachine     bool
	hypervisor    string
	oom           []int // OOM kills at the idle and workload breakdowns; nil: no breakdowns
	facts         map[string]string
}

func (n node) result() results.Result {
	status := n.status
	if status == "" {
		status = results.StatusOK
	}
	total := int64(n.size-51) * 1024 // the kernel keeps about 51 MiB of a small VM
	r := results.Result{SchemaVersion: 1, Node: n.name, Profile: n.profile, Status: status, SystemVersion: n.version,
		OS: results.OS{PrettyName: "Ubuntu 24.04.1 LTS", Kernel: "6.8.0-49-generic"}}
	add := func(phase results.PhaseName, vs []float64) {
		for i, v := range vs {
			used := int64(v * 1024)
			free := used - 20*1024
			r.Samples = append(r.Samples, results.Sample{Phase: phase, UptimeSeconds: float64(100 + 5*i), UsedKiB: used, FreeUsedKiB: &free,
				MeminfoKiB: map[string]int64{"MemTotal": total, "MemAvailable": total - used, "SwapTotal": 0, "SwapFree": 0}})
		}
	}
	add(results.PhaseIdle, n.idle)
	add(results.PhaseWorkload, n.work)
	for i, k := range n.oom {
		r.Breakdowns = append(r.Breakdowns, results.Breakdown{Phase: []results.PhaseName{results.PhaseIdle, results.PhaseWorkload}[i], OOMKills: k})
	}
	r.Facts = n.facts
	if n.api != "" {
		ms := func(v float64) *float64 { s := v / 1000; return &s }
		a := &results.API{Client: "curl", Verdict: n.api}
		switch n.api {
		case results.APIResponsive:
			a.Attempts = []results.APIAttempt{{HTTPCode: 200, Seconds: ms(4), OK: true}, {HTTPCode: 200, Seconds: ms(5), OK: true}, {HTTPCode: 200, Seconds: ms(9), OK: true}}
		case results.APIDegraded:
			a.Attempts = []results.APIAttempt{{HTTPCode: 200, Seconds: ms(900), OK: true}, {HTTPCode: 0}, {HTTPCode: 0}}
		default:
			a.Attempts = []results.APIAttempt{{HTTPCode: 0}, {HTTPCode: 0}, {HTTPCode: 0}}
		}
		for _, at := range a.Attempts {
			if at.OK {
				a.Successes++
			}
		}
		r.API = a
	}
	if !n.noMachine {
		hv := n.hypervisor
		if hv == "" {
			hv = "libvirt/kvm"
		}
		r.Machine = &results.Machine{Name: "footprint-t-" + n.name, VCPUs: 1, MemoryMiB: n.size, Repeat: n.repeat,
			DomainType: strings.TrimPrefix(hv, "libvirt/"), Hypervisor: hv, Image: "ubuntu-24.04-minimal-cloudimg-amd64.img",
			ImageSHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	}
	return r
}

// makeRun is a run of MySQL, the default workload, as the seed's was.
func makeRun(id string, nodes ...node) record.Run {
	run := record.Run{ID: id, Stack: "t", StartedAt: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC),
		Timings: record.Timings{UpSeconds: 300, DestroySeconds: 5}, Experiment: ranWith("mysql:8.4")}
	for _, n := range nodes {
		run.Nodes = append(run.Nodes, n.result())
	}
	return run
}

// repeatsRun: two profiles, three repeats each, at 1024 MiB.
func repeatsRun() record.Run {
	return makeRun("20261201T093000Z-repeats",
		node{name: "k3s-r1", profile: "k3s", size: 1024, repeat: 1, idle: []float64{700, 702}, work: []float64{900}, api: results.APIResponsive, version: "v1.31.4+k3s1"},
		node{name: "k3s-r2", profile: "k3s", size: 1024, repeat: 2, idle: []float64{720}, work: []float64{910}, api: results.APIResponsive, version: "v1.31.4+k3s1"},
		node{name: "k3s-r3", profile: "k3s", size: 1024, repeat: 3, idle: []float64{760}, work: []float64{950}, api: results.APIUnresponsive, version: "v1.31.4+k3s1"},
		node{name: "docker-r1", profile: "docker", size: 1024, repeat: 1, idle: []float64{210}, work: []float64{600}, api: results.APIResponsive, version: "docker 27.3.1"},
		node{name: "docker-r2", profile: "docker", size: 1024, repeat: 2, idle: []float64{216}, work: []float64{610}, api: results.APIResponsive, version: "docker 27.3.1"},
		node{name: "docker-r3", profile: "docker", size: 1024, repeat: 3, idle: []float64{230}, work: []float64{620}, api: results.APIResponsive, version: "docker 27.3.1"},
	)
}

// sweepRun: three profiles at 512, 1024 and 2048 MiB. k3s survives from
// 1024 MiB on, k0s never, bare has no API; k0s at 512 MiB never answered.
func sweepRun() record.Run {
	var nodes []node
	for _, size := range []int{512, 1024, 2048} {
		nodes = append(nodes, node{name: fmt.Sprintf("bare-%dm", size), profile: "bare", size: size, idle: []float64{160 + float64(size)/64}})
		k3s := node{name: fmt.Sprintf("k3s-%dm", size), profile: "k3s", size: size, idle: []float64{float64(size) * 0.6},
			work: []float64{float64(size-51) * 0.97}, api: results.APIResponsive, version: "v1.31.4+k3s1"}
		k0s := node{name: fmt.Sprintf("k0s-%dm", size), profile: "k0s", size: size, idle: []float64{float64(size) * 0.55},
			work: []float64{float64(size-51) * 0.99}, api: results.APIUnresponsive, version: "v1.31.3+k0s.0"}
		switch size {
		case 512:
			k3s.api = results.APIUnresponsive
			k0s = node{name: "k0s-512m", profile: "k0s-512m", status: results.StatusTimeout, noMachine: true}
		case 2048:
			k0s.api = results.APIDegraded
			k0s.work = []float64{1500}
		}
		nodes = append(nodes, k3s, k0s)
	}
	return makeRun("20261201T093000Z-sweep", nodes...)
}

// failedRun: nodes that produced nothing usable, beside one whose API died.
func failedRun() record.Run {
	run := makeRun("20261201T093000Z-failed",
		node{name: "k0s", profile: "k0s", size: 1024, status: results.StatusFailed},
		node{name: "microk8s", profile: "microk8s", status: results.StatusTimeout, noMachine: true},
		node{name: "k3s", profile: "k3s", size: 1024, status: results.StatusUnresponsive},
		node{name: "docker", profile: "docker", size: 1024, idle: []float64{220}, work: []float64{960, 968}, api: results.APIUnresponsive, version: "docker 27.3.1"},
	)
	run.Nodes[0].Detail = "install: exit status 1"
	run.Nodes[1].Collection = &results.Collection{Error: "no result within 30m0s"}
	run.Nodes[2].Collection = &results.Collection{Error: "no result within 30m0s", LastConsoleLine: "footprint: node=k3s phase=workloadReady status=started uptime=212.0"}
	return run
}

// factsRun: kubeadm, which the seed did not measure, beside k3s at 1024 and
// 2048 MiB; kubeadm ignored preflight checks and lost processes to the OOM
// killer at 1024 MiB.
func factsRun() record.Run {
	return makeRun("20261201T093000Z-facts",
		node{name: "kubeadm-1024m", profile: "kubeadm", size: 1024, idle: []float64{800}, work: []float64{990}, api: results.APIUnresponsive,
			version: "v1.36.3", oom: []int{0, 2}, facts: map[string]string{
				"preflightIgnored":  "NumCPU,Mem",
				"preflightWarnings": "[WARNING NumCPU]: the number of available CPUs 1 is less than the required 2\n\t[WARNING Mem]: the system RAM (973 MB) is less than the minimum 1700 MB",
			}},
		node{name: "kubeadm-2048m", profile: "kubeadm", size: 2048, idle: []float64{820}, work: []float64{1300}, api: results.APIResponsive,
			version: "v1.36.3", oom: []int{0, 0}, facts: map[string]string{"preflightIgnored": "NumCPU"}},
		node{name: "k3s-1024m", profile: "k3s", size: 1024, idle: []float64{614}, work: []float64{944}, api: results.APIResponsive,
			version: "v1.36.4+k3s1", oom: []int{0, 0}},
		node{name: "k3s-2048m", profile: "k3s", size: 2048, idle: []float64{640}, work: []float64{1100}, api: results.APIResponsive,
			version: "v1.36.4+k3s1"},
	)
}

// ranWith is a record's experiment that says which workload image ran.
func ranWith(image string) map[string]any { return map[string]any{"workloadImage": image} }
