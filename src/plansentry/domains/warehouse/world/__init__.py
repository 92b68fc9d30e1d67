"""The warehouse's world for the fleet simulator: orders, the oracle, the model's answers per
fault, travel time, the classical planner's measured time, the safety checker and the pilot's
controller (:class:`~.world.WarehouseWorld`). The generic simulator is :mod:`plansentry.sim`."""
