import { describe, expect, it } from "vitest";
import { gatewaySwanctl, parseListSas, subjectArg } from "./vpn-gateway.js";

// `swanctl --list-sas` of strongSwan 5.9.8 on the rig's laptop, after a CHILD_SA rekey.
const listed = `meerane: #1, ESTABLISHED, IKEv2, 000342b9083cf750_i* 3e9026bf4aba0225_r
  local  'CN=koffer-laptop, OU=Buergerkoffer, O=Stadt Meerane, C=DE' @ 10.251.7.1[4500] [10.252.8.1 fd00:252:8::1]
  remote 'CN=vpn.meerane.example, O=Stadt Meerane, C=DE' @ 10.251.7.2[4500]
  AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384
  established 0s ago, rekeying in 13376s
  koffer: #2, reqid 2, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-256
    installed 3s ago, rekeying in 3343s, expires in 3960s
    in  ebdf9453,    252 bytes,     3 packets,     1s ago
    out a75ad4a6,    336 bytes,     4 packets,     1s ago
    local  10.252.8.1/32 fd00:252:8::1/128
    remote 0.0.0.0/0 ::/0
  koffer: #3, reqid 2, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-256/ECP_384
    installed 0s ago, rekeying in 3371s, expires in 3960s
    in  c0ffee01,      0 bytes,     0 packets
    out c0ffee02,      0 bytes,     0 packets
    local  10.252.8.1/32 fd00:252:8::1/128
    remote 0.0.0.0/0 ::/0
other: #4, CONNECTING, IKEv2, 1111111111111111_i* 0000000000000000_r
  local  '%any' @ 10.251.7.1[500]
  remote '%any' @ 10.251.7.9[500]
`;

describe("vpn gateway harness helpers", () => {
  it("parses swanctl --list-sas: IKE algorithms, CHILD_SA algorithms and byte counters", () => {
    expect(parseListSas(listed)).toEqual([
      {
        name: "meerane",
        state: "ESTABLISHED",
        algorithms: "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384",
        children: [
          {
            name: "koffer",
            state: "INSTALLED",
            algorithms: "ESP:AES_GCM_16-256",
            bytesIn: 252,
            bytesOut: 336,
          },
          {
            name: "koffer",
            state: "INSTALLED",
            algorithms: "ESP:AES_GCM_16-256/ECP_384",
            bytesIn: 0,
            bytesOut: 0,
          },
        ],
      },
      { name: "other", state: "CONNECTING", algorithms: "", children: [] },
    ]);
    expect(parseListSas("")).toEqual([]);
  });

  it("writes the DN in openssl's -subj form, in the same order", () => {
    expect(subjectArg("CN=vpn.meerane.example, O=Stadt Meerane, C=DE")).toBe(
      "/CN=vpn.meerane.example/O=Stadt Meerane/C=DE",
    );
  });

  it("the responder offers exactly the given proposals and pools", () => {
    const conf = gatewaySwanctl({
      id: "CN=gw, C=DE",
      ike: ["aes256gcm16-prfsha384-ecp384"],
      esp: ["aes256gcm16-ecp384"],
      cert: "/x/gw.pem",
      key: "/x/gw.key",
      clientCas: ["/x/a.pem", "/x/b.pem"],
      remoteNet: "10.252.7.1/24",
      pool4: "10.252.8.0/24",
      pool6: "fd00:252:8::/120",
    });
    expect(conf).toContain("proposals = aes256gcm16-prfsha384-ecp384\n");
    expect(conf).toContain("esp_proposals = aes256gcm16-ecp384\n");
    expect(conf).toContain("cacerts = client-ca-0.pem,client-ca-1.pem\n");
    expect(conf).toContain('id = "CN=gw, C=DE"');
  });
});
