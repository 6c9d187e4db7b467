import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import './styles.css';

// The page's modules (Vue, ECharts, the cells) run in this task and its first mount in the next:
// together they were one task of 70–230 ms at start (issue 18).
setTimeout(() => createApp(App).use(createPinia()).mount('#app'), 0);
