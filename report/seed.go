package report

// The seed is the hand-run experiment footprint reproduces (README.md): a
// much-shared 2022 post that put k0s, k3s, MicroK8s, MicroK8s without HA,
// Docker and a bare OS each on a 1 vCPU / 1 GB Ubuntu Minimal VM, deployed
// MySQL on them, and read `free -m` by hand, used = total − available. The
// post is not linked from this repository; its figures live here and
// nowhere else, and report.md prints them beside footprint's own.
//
// Units: the post writes MB, but `free -m` prints mebibytes, so the figures
// are MiB and compare directly with footprint's. Its VMs showed a total of
// 971 MiB; it measured that one size only.

// SeedMemoryMiB is the VM size the seed measured ("1 GB"), as footprint
// sizes VMs.
const SeedMemoryMiB = 1024

// SeedMemTotalMiB is the total `free -m` showed on the seed's VMs.
const SeedMemTotalMiB = 971

// SeedFigure is what the seed says of one system, in MiB.
type SeedFigure struct {
	IdleMiB      int  // used after the install, idle
	WithMySQLMiB int  // used with MySQL deployed; 0: the seed gives no figure
	APIStopped   bool // the API server stopped answering with MySQL
}

// Seed is the seed's figures by profile. With MySQL, the seed gives one
// figure for the four Kubernetes distributions together — they reached 868
// of 971 MB — and says their API servers stopped answering; it gives none
// for the bare OS, which ran no MySQL.
var Seed = map[string]SeedFigure{
	"bare":          {IdleMiB: 167},
	"docker":        {IdleMiB: 216, WithMySQLMiB: 396},
	"k0s":           {IdleMiB: 658, WithMySQLMiB: 868, APIStopped: true},
	"k3s":           {IdleMiB: 750, WithMySQLMiB: 868, APIStopped: true},
	"microk8s":      {IdleMiB: 685, WithMySQLMiB: 868, APIStopped: true},
	"microk8s-noha": {IdleMiB: 526, WithMySQLMiB: 868, APIStopped: true},
}

// SeedOf is the seed's figure of a profile at a VM size: only the seed's
// own size has any.
func SeedOf(profile string, memoryMiB int) (SeedFigure, bool) {
	if memoryMiB != SeedMemoryMiB {
		return SeedFigure{}, false
	}
	f, ok := Seed[profile]
	return f, ok
}

// seedNote is the footnote under a table with the seed's columns.
const seedNote = "¹ Seed (1 GB, Ubuntu Minimal, 2022): the hand-run experiment footprint reproduces, " +
	"1 vCPU / 1 GB, one reading of `free -m` per system, used = total − available. " +
	"It writes MB, but `free -m` prints mebibytes: its figures are MiB and compare directly with the ones beside them " +
	"(its VMs showed 971 MiB in total). With MySQL it gives one figure for the four Kubernetes distributions together, " +
	"868 MiB used, and says their API servers stopped answering. It measured this VM size only.\n"
