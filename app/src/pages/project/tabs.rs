//! The project page's tabs (resources by kind) and the example each tab's YAML form offers.

/// The project page's tabs: resources by kind.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Tab {
    All,
    /// Installed apps, their resources folded under each.
    Apps,
    ConfigMaps,
    Secrets,
    Quotas,
    Rbac,
    Workloads,
    Other,
}

impl Tab {
    pub(super) const ALL: [Tab; 8] =
        [Tab::All, Tab::Apps, Tab::ConfigMaps, Tab::Secrets, Tab::Quotas, Tab::Rbac, Tab::Workloads, Tab::Other];

    pub(super) fn label(self) -> &'static str {
        match self {
            Tab::All => "All",
            Tab::Apps => "Apps",
            Tab::ConfigMaps => "ConfigMaps",
            Tab::Secrets => "Secrets",
            Tab::Quotas => "Quotas",
            Tab::Rbac => "Roles",
            Tab::Workloads => "Workloads",
            Tab::Other => "Other",
        }
    }

    pub(super) fn noun(self) -> &'static str {
        match self {
            Tab::All => "resources",
            Tab::Apps => "apps",
            Tab::ConfigMaps => "ConfigMaps",
            Tab::Secrets => "Secrets",
            Tab::Quotas => "quotas or limit ranges",
            Tab::Rbac => "Roles, RoleBindings or ServiceAccounts",
            Tab::Workloads => "workloads",
            Tab::Other => "other objects",
        }
    }

    fn of(kind: &str) -> Tab {
        match kind {
            "ConfigMap" => Tab::ConfigMaps,
            "Secret" => Tab::Secrets,
            "ResourceQuota" | "LimitRange" => Tab::Quotas,
            "Role" | "RoleBinding" | "ServiceAccount" => Tab::Rbac,
            "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" | "ReplicaSet" | "Pod" => Tab::Workloads,
            _ => Tab::Other,
        }
    }

    /// Whether the tab lists a resource of `kind` on its own row (the Apps tab lists
    /// installs, whose resources fold under them).
    pub(super) fn holds(self, kind: &str) -> bool {
        self == Tab::All || Tab::of(kind) == self
    }

    /// Whether the tab shows installs with their resources folded under them.
    pub(super) fn shows_installs(self) -> bool {
        matches!(self, Tab::All | Tab::Apps)
    }
}

pub(super) const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n";
pub(super) const CONFIGMAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  LOG_LEVEL: info\n";
pub(super) const SECRET: &str =
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: change-me\n";
pub(super) const QUOTA: &str = "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: compute\nspec:\n  hard:\n    requests.cpu: \"4\"\n    requests.memory: 8Gi\n    pods: \"20\"\n";
pub(super) const ROLE: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: read-config\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get, list, watch]\n";
pub(super) const SERVICE: &str =
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n";
