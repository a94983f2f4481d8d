"""Scene clusters: k-means on scene vectors, saved centroids, assignment of new items."""

from neardup.cluster.run import Clustered, ClusterResult, Similar, cluster

__all__ = ["ClusterResult", "Clustered", "Similar", "cluster"]
