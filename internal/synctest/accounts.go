package synctest

import (
	"context"
	"testing"
	"time"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/crypto/providers"
	"github.com/conductorone/baton-sdk/pkg/crypto/providers/jwk"
	"github.com/conductorone/baton-sdk/pkg/types"
	"google.golang.org/protobuf/types/known/structpb"
)

// CreateAccount asks the connector for an account over gRPC, as C1 does: the
// credentials come back encrypted to a key made for this call, and are
// returned decrypted. An error of the call is returned, not fatal.
func CreateAccount(t testing.TB, ctx context.Context, cc types.ConnectorClient, info *v2.AccountInfo, creds *v2.CredentialOptions) (
	*v2.CreateAccountResponse, []*v2.PlaintextData, error) {
	t.Helper()
	provider, err := providers.GetEncryptionProvider(jwk.EncryptionProviderJwk)
	if err != nil {
		t.Fatal(err)
	}
	encCfg, privKey, err := provider.GenerateKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cc.CreateAccount(ctx, v2.CreateAccountRequest_builder{
		AccountInfo:       info,
		CredentialOptions: creds,
		EncryptionConfigs: []*v2.EncryptionConfig{encCfg},
	}.Build())
	if err != nil {
		return nil, nil, err
	}
	var plain []*v2.PlaintextData
	for _, ed := range resp.GetEncryptedData() {
		pd, err := provider.Decrypt(ctx, ed, privKey)
		if err != nil {
			t.Fatalf("decrypting %q: %v", ed.GetName(), err)
		}
		plain = append(plain, pd)
	}
	return resp, plain, nil
}

// RandomPassword is the credential option C1 sends for a random password of this length.
func RandomPassword(length int64) *v2.CredentialOptions {
	return v2.CredentialOptions_builder{RandomPassword: v2.CredentialOptions_RandomPassword_builder{Length: length}.Build()}.Build()
}

// AccountInfo builds the account info of a create-account request from a profile.
func AccountInfo(t testing.TB, email, login string, profile map[string]any) *v2.AccountInfo {
	t.Helper()
	p, err := structpb.NewStruct(profile)
	if err != nil {
		t.Fatal(err)
	}
	var emails []*v2.AccountInfo_Email
	if email != "" {
		emails = append(emails, v2.AccountInfo_Email_builder{Address: email, IsPrimary: true}.Build())
	}
	return v2.AccountInfo_builder{Emails: emails, Login: login, Profile: p}.Build()
}

// InvokeAction runs a resource-scoped action over gRPC and returns its final
// status and result (a failed action's error is in the result's "error" field).
func InvokeAction(t testing.TB, ctx context.Context, cc types.ConnectorClient, resourceTypeID, name string, args map[string]any) (
	v2.BatonActionStatus, *structpb.Struct) {
	t.Helper()
	a, err := structpb.NewStruct(args)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cc.InvokeAction(ctx, v2.InvokeActionRequest_builder{Name: name, ResourceTypeId: resourceTypeID, Args: a}.Build())
	if err != nil {
		t.Fatalf("InvokeAction %s: %v", name, err)
	}
	st, rv := resp.GetStatus(), resp.GetResponse()
	for st == v2.BatonActionStatus_BATON_ACTION_STATUS_PENDING || st == v2.BatonActionStatus_BATON_ACTION_STATUS_RUNNING {
		time.Sleep(10 * time.Millisecond)
		sr, err := cc.GetActionStatus(ctx, v2.GetActionStatusRequest_builder{Id: resp.GetId()}.Build())
		if err != nil {
			t.Fatalf("GetActionStatus %s: %v", name, err)
		}
		st, rv = sr.GetStatus(), sr.GetResponse()
	}
	return st, rv
}
