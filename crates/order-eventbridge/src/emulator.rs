//! A local EventBridge emulator for tests: moto's server, with a bus, a rule matching the
//! service's source, and an SQS queue as the rule's target to read events back.
//!
//! The server is `$MOTO_SERVER`, or `moto_server` on the PATH (`make moto` installs it in
//! `.venv/`). Its HTTP API is called directly: moto reads the service from the credential
//! scope of the `Authorization` header and does not check signatures.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";

/// A running moto server; killed when dropped.
pub struct Emulator {
    child: Option<Child>,
    port: u16,
    http: reqwest::Client,
}

fn moto_server() -> String {
    std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into())
}

impl Emulator {
    pub async fn start() -> Emulator {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut emulator = Emulator {
            child: None,
            port,
            http: reqwest::Client::new(),
        };
        emulator.launch().await;
        emulator
    }

    async fn launch(&mut self) {
        let child = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}): install moto with `make moto`, or set MOTO_SERVER",
                    moto_server()
                )
            });
        self.child = Some(child);
        let started = Instant::now();
        while self.http.get(self.url()).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The endpoint to give the SDK (`AWS_ENDPOINT_URL`).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server: every call to it fails until [`Emulator::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port; it remembers nothing.
    pub async fn restart(&mut self) {
        self.stop();
        self.launch().await;
    }

    async fn call(&self, service: &str, target: &str, body: Value) -> Value {
        let (prefix, content_type) = match service {
            "events" => ("AWSEvents", "application/x-amz-json-1.1"),
            _ => ("AmazonSQS", "application/x-amz-json-1.0"),
        };
        let scope = format!("testing/20260101/{REGION}/{service}/aws4_request");
        let response = self
            .http
            .post(self.url())
            .header(
                "Authorization",
                format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"),
            )
            .header("X-Amz-Target", format!("{prefix}.{target}"))
            .header("Content-Type", content_type)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{service} {target}: {status} {answer}");
        answer
    }

    /// Creates `bus`, a queue, and a rule sending every event of `source` to the queue.
    pub async fn route(&self, bus: &str, source: &str) -> Queue {
        self.call("events", "CreateEventBus", json!({"Name": bus}))
            .await;
        let queue = self
            .call(
                "sqs",
                "CreateQueue",
                json!({"QueueName": format!("{bus}-events")}),
            )
            .await;
        let url = queue["QueueUrl"].as_str().unwrap().to_owned();
        let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{bus}-events");
        let pattern = json!({"source": [source]}).to_string();
        self.call(
            "events",
            "PutRule",
            json!({"Name": "all", "EventBusName": bus, "EventPattern": pattern}),
        )
        .await;
        self.call(
            "events",
            "PutTargets",
            json!({"Rule": "all", "EventBusName": bus, "Targets": [{"Id": "queue", "Arn": arn}]}),
        )
        .await;
        Queue { url }
    }

    /// Reads events off `queue` until `count` have arrived or `timeout` passes; each is
    /// the EventBridge envelope (`source`, `detail-type`, `detail`, …).
    pub async fn receive(&self, queue: &Queue, count: usize, timeout: Duration) -> Vec<Value> {
        let started = Instant::now();
        let mut events = Vec::new();
        while events.len() < count && started.elapsed() < timeout {
            let answer = self
                .call(
                    "sqs",
                    "ReceiveMessage",
                    json!({"QueueUrl": queue.url, "MaxNumberOfMessages": 10}),
                )
                .await;
            let messages = answer["Messages"].as_array().cloned().unwrap_or_default();
            if messages.is_empty() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            for message in messages {
                events.push(serde_json::from_str(message["Body"].as_str().unwrap()).unwrap());
                self.call(
                    "sqs",
                    "DeleteMessage",
                    json!({"QueueUrl": queue.url, "ReceiptHandle": message["ReceiptHandle"]}),
                )
                .await;
            }
        }
        events
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An SQS queue receiving a bus's events.
pub struct Queue {
    url: String,
}
