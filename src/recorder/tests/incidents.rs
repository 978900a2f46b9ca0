//! Incidents and their per-incident samples, including the edge cases of the definitions.

use super::{Script, assert_close, fault};
use crate::client::Reason;
use crate::outcome::Incident;

/// Times rounded to the microsecond, so literals compare equal.
fn rounded(incident: &Incident) -> Incident {
    let r = |t: f64| (t * 1e6).round() / 1e6;
    Incident {
        t_break: r(incident.t_break),
        t_detect: r(incident.t_detect),
        t_open: incident.t_open.map(r),
        t_recovered: incident.t_recovered.map(r),
        t_heal: incident.t_heal.map(r),
        ..incident.clone()
    }
}

/// Client 0 connects on link 0 at 0.0 (open at 0.02) and gets its first echo at 0.5.
fn opened_and_echoing(workload: bool) -> Script {
    let script = Script::new(1, workload, 30.0).connect(0.0, 0, 1, 0);
    if workload { script.offered(0.4, 0, 0).sent(0.4, 0, 0, false).echoed(0.5, 0, 0, 100) } else { script }
}

struct Case {
    name: &'static str,
    script: Script,
    incidents: Vec<Incident>,
    /// Expected samples of the per-incident metrics.
    samples: &'static [(&'static str, &'static [f64])],
}

fn cases() -> Vec<Case> {
    let reset = fault(0, 0);
    let blackhole = fault(0, 0);
    let refuse = fault(1, 0);
    vec![
        Case {
            name: "a reset fault breaks the link; two attempts and a resync recover it",
            script: opened_and_echoing(true)
                .started(5.0, reset, "reset")
                .hit(5.0, reset, Some(0))
                .closed(5.0, 0)
                .detected(5.01, 0, Reason::Reset)
                .attempt(5.5, 0, 2)
                .failed(5.6, 0, 2)
                .connect(6.5, 0, 3, 1)
                .echoed(7.0, 0, 1, 300),
            incidents: vec![Incident {
                client: 0,
                t_break: 5.0,
                t_detect: 5.01,
                reason: "reset".into(),
                attempts: 2,
                t_open: Some(6.52),
                t_recovered: Some(7.0),
                t_heal: Some(5.0),
                causes: vec!["faults[0]#0 reset".into()],
                tls_time: None,
            }],
            samples: &[
                ("recovery_time", &[2.0]),
                ("detect_time", &[0.01]),
                ("reconnect_time", &[1.51]),
                ("resync_time", &[0.48]),
                ("excess_after_heal", &[2.0]),
                ("attempts", &[2.0]),
            ],
        },
        Case {
            name: "a break during backoff and resync continues one incident",
            script: opened_and_echoing(true)
                .detected(5.0, 0, Reason::Eof)
                .connect(5.5, 0, 2, 1)
                .detected(6.0, 0, Reason::HeartbeatTimeout)
                .attempt(6.5, 0, 3)
                .failed(6.6, 0, 3)
                .connect(7.0, 0, 4, 2)
                .echoed(7.3, 0, 1, 100),
            incidents: vec![Incident {
                client: 0,
                t_break: 5.0,
                t_detect: 5.0,
                reason: "eof".into(),
                attempts: 3,
                t_open: Some(7.02),
                t_recovered: Some(7.3),
                t_heal: None,
                causes: vec![],
                tls_time: None,
            }],
            samples: &[
                ("recovery_time", &[2.3]),
                ("detect_time", &[0.0]),
                ("reconnect_time", &[2.02]),
                ("resync_time", &[0.28]),
                ("excess_after_heal", &[2.3]),
                ("attempts", &[3.0]),
            ],
        },
        Case {
            name: "a blackhole that heals before detection still causes the incident",
            script: opened_and_echoing(true)
                .started(10.0, blackhole, "blackhole")
                .hit(10.0, blackhole, Some(0))
                .ended(12.0, blackhole)
                .detected(15.0, 0, Reason::HeartbeatTimeout)
                .connect(15.5, 0, 2, 1)
                .echoed(15.8, 0, 1, 100),
            incidents: vec![Incident {
                client: 0,
                t_break: 10.0,
                t_detect: 15.0,
                reason: "heartbeat_timeout".into(),
                attempts: 1,
                t_open: Some(15.52),
                t_recovered: Some(15.8),
                t_heal: Some(12.0),
                causes: vec!["faults[0]#0 blackhole".into()],
                tls_time: None,
            }],
            samples: &[
                ("recovery_time", &[5.8]),
                ("detect_time", &[5.0]),
                ("reconnect_time", &[0.52]),
                ("resync_time", &[0.28]),
                ("excess_after_heal", &[3.8]),
                ("attempts", &[1.0]),
            ],
        },
        Case {
            name: "two overlapping faults: t_heal is the later end",
            script: opened_and_echoing(true)
                .started(10.0, blackhole, "blackhole")
                .hit(10.0, blackhole, Some(0))
                .started(11.0, refuse, "refuse")
                .detected(13.0, 0, Reason::ReadTimeout)
                .ended(14.0, blackhole)
                .attempt(15.0, 0, 2)
                .hit(15.0, refuse, None)
                .failed(15.0, 0, 2)
                .ended(18.0, refuse)
                .connect(18.5, 0, 3, 1)
                .echoed(18.7, 0, 1, 100),
            incidents: vec![Incident {
                client: 0,
                t_break: 10.0,
                t_detect: 13.0,
                reason: "read_timeout".into(),
                attempts: 2,
                t_open: Some(18.52),
                t_recovered: Some(18.7),
                t_heal: Some(18.0),
                causes: vec!["faults[0]#0 blackhole".into(), "faults[1]#0 refuse".into()],
                tls_time: None,
            }],
            samples: &[
                ("recovery_time", &[8.7]),
                ("detect_time", &[3.0]),
                ("reconnect_time", &[5.52]),
                ("resync_time", &[0.18]),
                ("excess_after_heal", &[0.7]),
                ("attempts", &[2.0]),
            ],
        },
        Case {
            name: "a client that gives up leaves the incident unrecovered",
            script: opened_and_echoing(true)
                .closed(4.9, 0)
                .detected(5.0, 0, Reason::Reset)
                .attempt(5.1, 0, 2)
                .failed(5.2, 0, 2)
                .attempt(6.1, 0, 3)
                .failed(6.2, 0, 3)
                .attempt(7.1, 0, 4)
                .failed(7.2, 0, 4)
                .gave_up(7.2, 0)
                .started(8.0, refuse, "refuse")
                .hit(8.5, refuse, None)
                .ended(9.0, refuse),
            incidents: vec![Incident {
                client: 0,
                t_break: 4.9,
                t_detect: 5.0,
                reason: "reset".into(),
                attempts: 3,
                t_open: None,
                t_recovered: None,
                t_heal: None,
                causes: vec![],
                tls_time: None,
            }],
            samples: &[
                ("recovery_time", &[]),
                ("detect_time", &[0.1]),
                ("reconnect_time", &[]),
                ("resync_time", &[]),
                ("excess_after_heal", &[]),
                ("attempts", &[3.0]),
            ],
        },
        Case {
            name: "without a workload the open recovers; handshake-time hits do not set t_break",
            script: Script::new(1, false, 30.0)
                .started(0.0, fault(0, 0), "handshake_delay")
                .attempt(0.0, 0, 1)
                .identified(0.01, 0, 0)
                .hit(0.01, fault(0, 0), Some(0))
                .opened(0.5, 0, 1)
                .ended(1.0, fault(0, 0))
                .detected(2.0, 0, Reason::Eof)
                .closed(2.9, 0)
                .detected(3.0, 0, Reason::Reset)
                .connect(3.1, 0, 2, 1)
                .detected(4.0, 0, Reason::CloseFrame(1011))
                .attempt(4.5, 0, 3),
            incidents: vec![
                Incident {
                    client: 0,
                    t_break: 2.0,
                    t_detect: 2.0,
                    reason: "eof".into(),
                    attempts: 1,
                    t_open: Some(3.12),
                    t_recovered: Some(3.12),
                    t_heal: None,
                    causes: vec![],
                    tls_time: None,
                },
                Incident {
                    client: 0,
                    t_break: 4.0,
                    t_detect: 4.0,
                    reason: "close_frame(1011)".into(),
                    attempts: 1,
                    t_open: None,
                    t_recovered: None,
                    t_heal: None,
                    causes: vec![],
                    tls_time: None,
                },
            ],
            samples: &[
                ("recovery_time", &[1.12]),
                ("detect_time", &[0.0, 0.0]),
                ("reconnect_time", &[1.12]),
                ("resync_time", &[0.0]),
                ("excess_after_heal", &[1.12]),
                ("attempts", &[1.0, 1.0]),
            ],
        },
    ]
}

#[test]
fn incidents_follow_the_definitions() {
    for case in cases() {
        let output = case.script.finish();
        let incidents: Vec<Incident> = output.incidents.iter().map(rounded).collect();
        assert_eq!(incidents, case.incidents, "{}", case.name);
        for (metric, expected) in case.samples {
            assert_close(&output.samples[metric], expected, &format!("{}: {metric}", case.name));
        }
        assert_eq!(output.samples["incidents"], vec![1.0; case.incidents.len()], "{}", case.name);
    }
}

#[test]
fn arrival_order_does_not_matter() {
    for case in cases() {
        let mut reversed = case.script.clone();
        reversed.events.reverse();
        // Reversing also reverses ties; the cases keep tied events order-independent.
        assert_eq!(reversed.finish(), case.script.finish(), "{}", case.name);
    }
}

#[test]
fn detect_times_are_grouped_by_reason() {
    let output = cases().remove(5).script.finish();
    let reasons: Vec<(&str, usize)> =
        output.detect_by_reason.iter().map(|(reason, times)| (reason.as_str(), times.len())).collect();
    assert_eq!(reasons, [("close_frame(1011)", 1), ("eof", 1)]);
}

#[test]
fn a_detection_before_the_first_open_is_no_incident() {
    let output = Script::new(1, true, 10.0).attempt(0.0, 0, 1).detected(0.5, 0, Reason::Reset).finish();
    assert!(output.incidents.is_empty());
    assert!(output.samples["incidents"].is_empty());
}

#[test]
fn after_the_heal_a_client_with_nothing_left_to_send_recovers_at_its_open() {
    // The workload stops at the heal (10 s). Client 0 breaks at 12 s with every message echoed:
    // no echo will come, so its open is its recovery. Client 1 breaks with message 1 unechoed:
    // it recovers when the resent message is echoed.
    let script = Script::new(2, true, 30.0)
        .healed_at(10.0)
        .connect(0.0, 0, 1, 0)
        .connect(0.0, 1, 1, 1)
        .offered(9.0, 0, 0)
        .echoed(9.0, 0, 0, 1)
        .offered(9.0, 1, 0)
        .echoed(9.0, 1, 0, 1)
        .offered(9.9, 1, 1)
        .detected(12.0, 0, Reason::Eof)
        .detected(12.0, 1, Reason::Eof)
        .connect(13.0, 0, 2, 2)
        .connect(13.0, 1, 2, 3)
        .echoed(13.5, 1, 1, 3600);
    let output = script.finish();
    let recovered: Vec<Option<f64>> = output.incidents.iter().map(|i| rounded(i).t_recovered).collect();
    assert_eq!(recovered, vec![Some(13.02), Some(13.5)]);
    let availability = &output.samples["availability"];
    assert!(availability[0] > availability[1], "healthy again from the open: {availability:?}");
}

#[test]
fn a_reused_client_address_is_matched_with_the_link_it_opened_before_the_open() {
    use crate::client::ClientEventKind;
    use crate::proxy::{EventKind, LinkId};

    // Over a long run the sim network's ports wrap (and a kernel reuses ephemeral ports), so
    // client 1's later link comes from the address client 0 opened link 0 from.
    let peer: std::net::SocketAddr = "127.0.0.1:1024".parse().unwrap();
    let open_from = |script: Script, t: f64, client: u32, link: u64| {
        script
            .attempt(t, client, 1)
            .proxy(t, EventKind::LinkOpened { link: LinkId(link), peer })
            .identified(t + 0.01, link, client)
            .client(t + 0.02, client, ClientEventKind::Opened { n: 1, local: Some(peer) })
    };
    let script = open_from(Script::new(2, false, 30.0), 0.0, 0, 0)
        .started(9.0, fault(0, 0), "blackhole")
        .hit(9.0, fault(0, 0), Some(0))
        .detected(12.0, 0, Reason::HeartbeatTimeout)
        .ended(15.0, fault(0, 0));
    let output = open_from(script, 20.0, 1, 5).finish();
    let incident = rounded(&output.incidents[0]);
    assert_eq!(incident.t_break, 9.0, "the blackhole on link 0 broke client 0, not link 5");
    assert_eq!(incident.causes, ["faults[0]#0 blackhole"]);
}
