// Package provider describes a Pulumi bridge over the Terraform libvirt
// provider, equivalent to pulumi-libvirt v0.5.4 (which is deprecated upstream
// and whose provider module is not in the Go module proxy).
package provider

import (
	"github.com/dmacvicar/terraform-provider-libvirt/libvirt"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
)

const (
	// Name is the Pulumi package name.
	Name = "libvirt"
	// Version is the pulumi-libvirt release this plugin stands in for; the
	// Go SDK github.com/pulumi/pulumi-libvirt/sdk v0.5.4 asks for it.
	Version = "0.5.4"

	mainMod = "index"
)

// Info returns the bridge's description of the provider.
func Info() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:           shim.NewProvider(libvirt.Provider()),
		Name:        Name,
		Version:     Version,
		Description: "A Pulumi package for creating and managing libvirt cloud resources.",
		Keywords:    []string{"pulumi", "libvirt"},
		License:     "Apache-2.0",
		Homepage:    "https://pulumi.io",
		Repository:  "https://github.com/pulumi/pulumi-libvirt",
		GitHubOrg:   "dmacvicar",
		Config: map[string]*tfbridge.SchemaInfo{
			"uri": {
				Default: &tfbridge.DefaultInfo{
					EnvVars: []string{"LIBVIRT_DEFAULT_URI"},
				},
			},
		},
		// Upstream's explicit token: the standard strategy would make
		// "CloudinitDisk" of libvirt_cloudinit_disk, but the SDK uses
		// libvirt:index/cloudInitDisk:CloudInitDisk.
		Resources: map[string]*tfbridge.ResourceInfo{
			"libvirt_cloudinit_disk": {Tok: "libvirt:index/cloudInitDisk:CloudInitDisk"},
		},
	}
	// Every other token is libvirt:index/<lowerCamel>:<Name>.
	info.MustComputeTokens(tokens.SingleModule("libvirt_", mainMod, tokens.MakeStandard(Name)))
	info.SetAutonaming(255, "-")
	return info
}
