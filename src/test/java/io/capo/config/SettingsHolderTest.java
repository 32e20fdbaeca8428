package io.capo.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class SettingsHolderTest {

    private final CapoSettings defaults = CapoSettings.defaults();
    private final CapoSettings other = new CapoConfigLoader().parse("ipReserveMaxCount: 9", Map.of()).settings();

    @Test
    void replaceNotifiesOnlyOnChangeAndSurvivesAThrowingListener() {
        SettingsHolder holder = new SettingsHolder(defaults);
        List<CapoSettings> seen = new CopyOnWriteArrayList<>();
        holder.onChange(s -> {
            throw new IllegalStateException("boom");
        });
        Registration registration = holder.onChange(seen::add);

        holder.replace(defaults);
        assertThat(seen).isEmpty();

        holder.replace(other);
        assertThat(holder.current()).isEqualTo(other);
        assertThat(seen).containsExactly(other);

        registration.cancel();
        holder.replace(defaults);
        assertThat(holder.current()).isEqualTo(defaults);
        assertThat(seen).containsExactly(other);
    }
}
