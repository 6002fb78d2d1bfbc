package dev.fleettracker.peer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The records of a batch that can still decide each vehicle's state (src/state/newest-per-vehicle.ts):
 * the highest ts per vehicle; on equal ts the highest offset of one partition; equal-ts records of
 * different partitions are all kept, in batch order, for the script to decide.
 */
final class NewestPerVehicle {
  private NewestPerVehicle() {}

  static List<Position> of(List<Position> batch) {
    var byVehicle = new LinkedHashMap<String, List<Position>>(batch.size() * 2);
    for (Position p : batch) {
      List<Position> entry = byVehicle.get(p.vehicleId());
      if (entry == null || p.ts() > entry.get(0).ts()) {
        var fresh = new ArrayList<Position>(1);
        fresh.add(p);
        byVehicle.put(p.vehicleId(), fresh);
      } else if (p.ts() == entry.get(0).ts()) {
        Position only = entry.size() == 1 ? entry.get(0) : null;
        if (only != null && only.partition() == p.partition()) {
          if (p.offset() > only.offset()) entry.set(0, p);
        } else {
          entry.add(p);
        }
      }
    }
    var out = new ArrayList<Position>(byVehicle.size());
    for (List<Position> entry : byVehicle.values()) out.addAll(entry);
    return out;
  }
}
