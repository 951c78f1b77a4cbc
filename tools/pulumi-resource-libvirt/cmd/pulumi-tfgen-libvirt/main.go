// Command pulumi-tfgen-libvirt generates the Pulumi schema of the libvirt
// plugin into the folder given by --out (see tools/README.md):
//
//	go run ./cmd/pulumi-tfgen-libvirt schema --out /tmp/libvirt-schema
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"github.com/footprint-dev/footprint/tools/pulumi-resource-libvirt/provider"
)

func main() {
	tfgen.Main(provider.Name, provider.Version, provider.Info())
}
